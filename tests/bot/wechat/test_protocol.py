"""The pure protocol: signatures, WeChat's published crypto samples both ways, hostile XML."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from bot.core.config import WeChatConfig
from bot.wechat.protocol import BadSignature, WeChatProtocol, message_xml, sign
from storage.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WECOM = json.loads((FIXTURES / "wecom_sample.json").read_text())
MP = json.loads((FIXTURES / "mp_sample.json").read_text())


def protocol(sample: dict, mode: str = "safe", window: float = 0) -> WeChatProtocol:
    config = WeChatConfig(
        appid=sample["appid"],
        token=sample["token"],
        encoding_aes_key=sample["encoding_aes_key"],
        mode=mode,  # type: ignore[arg-type]
    )
    return WeChatProtocol(config, replay_window=window)


def aes_query(token: str, msg_signature: str, timestamp: str, nonce: str) -> dict[str, str]:
    """The query string WeChat sends with an encrypted message."""
    return {
        "msg_signature": msg_signature,
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "signature": sign(token, timestamp, nonce),
    }


MP_QUERY = aes_query(MP["token"], MP["msg_signature"], MP["timestamp"], MP["nonce"])


def test_published_sample_decrypts_to_its_message() -> None:
    sample = WECOM["message"]
    query = aes_query(WECOM["token"], sample["msg_signature"], sample["timestamp"], sample["nonce"])
    body = f"<xml><ToUserName><![CDATA[{WECOM['appid']}]]></ToUserName><Encrypt><![CDATA[{sample['encrypt']}]]></Encrypt></xml>"
    envelope = protocol(WECOM).open(query, body.encode())
    assert envelope.encrypted
    assert envelope.inbound.openid == "mycreate"
    assert envelope.inbound.text == "hello"
    assert envelope.inbound.msg_id == "4561255354251345929"


def test_published_sample_encrypts_to_its_ciphertext(monkeypatch: pytest.MonkeyPatch) -> None:
    # AES-CBC with IV = key[:16] is deterministic once the 16 random bytes are fixed, so
    # encrypting the sample's plaintext with the sample's random prefix must give its ciphertext.
    sample = WECOM["message"]
    monkeypatch.setattr(PrpCrypto, "get_random_string", lambda self: sample["random_prefix"])
    crypto = WeChatCrypto(WECOM["token"], WECOM["encoding_aes_key"], WECOM["appid"])
    envelope_xml = crypto.encrypt_message(sample["plain"], sample["nonce"], sample["timestamp"])
    assert f"<![CDATA[{sample['encrypt']}]]>" in envelope_xml
    assert f"<![CDATA[{sample['msg_signature']}]]>" in envelope_xml


def test_published_verify_sample_signature() -> None:
    verify = WECOM["verify"]
    assert (
        sign(WECOM["token"], verify["timestamp"], verify["nonce"], verify["echostr"])
        == (verify["msg_signature"])
    )


def test_official_account_sample_decrypts() -> None:
    query = MP_QUERY
    body = f"<xml><Encrypt><![CDATA[{MP['encrypt']}]]></Encrypt></xml>".encode()
    inbound = protocol(MP).open(query, body).inbound
    assert (inbound.openid, inbound.text, inbound.msg_id) == (
        MP["from"],
        MP["content"],
        MP["msg_id"],
    )


def test_reply_is_encrypted_in_safe_mode_and_decrypts_back() -> None:
    proto = protocol(MP)
    query = MP_QUERY
    envelope = proto.open(
        query, f"<xml><Encrypt><![CDATA[{MP['encrypt']}]]></Encrypt></xml>".encode()
    )
    reply = proto.reply(envelope, "收到")
    assert "<Encrypt>" in reply and "收到" not in reply
    crypto = WeChatCrypto(MP["token"], MP["encoding_aes_key"], MP["appid"])
    signature = reply.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    plain = crypto.decrypt_message(reply, signature, MP["timestamp"], MP["nonce"])
    assert "<Content><![CDATA[收到]]></Content>" in plain
    assert f"<ToUserName><![CDATA[{MP['from']}]]></ToUserName>" in plain


def test_wrong_msg_signature_is_refused() -> None:
    query = {**MP_QUERY, "msg_signature": "0" * 40}
    with pytest.raises(BadSignature):
        protocol(MP).open(
            query, f"<xml><Encrypt><![CDATA[{MP['encrypt']}]]></Encrypt></xml>".encode()
        )


def test_safe_mode_refuses_plaintext() -> None:
    query = {"timestamp": "1", "nonce": "2", "signature": sign(MP["token"], "1", "2")}
    with pytest.raises(BadSignature):
        protocol(MP).open(query, message_xml({"FromUserName": "u", "MsgType": "text"}).encode())


def plain_query(token: str, timestamp: str | None = None) -> dict[str, str]:
    stamp = timestamp or str(int(time.time()))
    return {"timestamp": stamp, "nonce": "42", "signature": sign(token, stamp, "42")}


def test_replay_window_refuses_old_timestamps() -> None:
    proto = protocol(MP, mode="plain", window=300)
    old = str(int(time.time()) - 3600)
    with pytest.raises(BadSignature, match="away from now"):
        proto.verify(plain_query(MP["token"], old))
    proto.verify(plain_query(MP["token"]))


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<xml><Content>&lol2;</Content></xml>",
        b'<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml></xml>',
        b"<xml><MsgType>text</MsgType",
        b"not xml at all",
        b"<xml><Content>no type</Content></xml>",
        b"\xff\xfe\x00",
    ],
    ids=["entities", "external-dtd", "truncated", "not-xml", "no-msgtype", "not-utf8"],
)
def test_hostile_or_malformed_bodies_are_invalid_input(body: bytes) -> None:
    proto = protocol(MP, mode="plain")
    with pytest.raises(InvalidInput):
        proto.open(plain_query(MP["token"]), body)


def test_text_voice_and_events_become_inbound() -> None:
    proto = protocol(MP, mode="plain")
    query = plain_query(MP["token"])
    voice = message_xml(
        {
            "ToUserName": "gh",
            "FromUserName": "u1",
            "CreateTime": 1,
            "MsgType": "voice",
            "MediaId": "m",
            "Format": "amr",
            "Recognition": "帮我买菜",
            "MsgId": 77,
        }
    )
    inbound = proto.open(query, voice.encode()).inbound
    assert (inbound.kind, inbound.text, inbound.dedup_key) == ("voice", "帮我买菜", "u1:77")
    click = message_xml(
        {
            "ToUserName": "gh",
            "FromUserName": "u1",
            "CreateTime": 5,
            "MsgType": "event",
            "Event": "CLICK",
            "EventKey": "MY_REQUESTS",
        }
    )
    inbound = proto.open(query, click.encode()).inbound
    assert (inbound.event, inbound.event_key, inbound.interaction) == (
        "click",
        "MY_REQUESTS",
        "click",
    )
    assert inbound.dedup_key == "u1:5:click:MY_REQUESTS"
    location = message_xml(
        {
            "ToUserName": "gh",
            "FromUserName": "u1",
            "CreateTime": 6,
            "MsgType": "location",
            "Location_X": 31.2,
            "Location_Y": 121.5,
            "Scale": 15,
            "Label": "阳光花园",
            "MsgId": 78,
        }
    )
    inbound = proto.open(query, location.encode()).inbound
    assert (inbound.latitude, inbound.longitude, inbound.label) == (31.2, 121.5, "阳光花园")


def test_a_declaration_inside_an_encrypted_message_is_refused_too() -> None:
    proto = protocol(MP, mode="safe")
    hostile = '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>'
    crypto = WeChatCrypto(MP["token"], MP["encoding_aes_key"], MP["appid"])
    timestamp, nonce = str(int(time.time())), "n0nce"
    body = crypto.encrypt_message(hostile, nonce, timestamp)
    encrypt = body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    query = aes_query(MP["token"], sign(MP["token"], timestamp, nonce, encrypt), timestamp, nonce)
    with pytest.raises(InvalidInput, match="declarations"):
        proto.open(query, body.encode())


def test_declaration_words_in_a_users_text_are_just_text() -> None:
    proto = protocol(MP, mode="plain")
    xml = message_xml(
        {
            "ToUserName": "gh",
            "FromUserName": "u1",
            "CreateTime": 1,
            "MsgType": "text",
            "Content": "<!DOCTYPE html> 网页打不开了",
            "MsgId": 78,
        }
    )
    inbound = proto.open(plain_query(MP["token"]), xml.encode()).inbound
    assert inbound.text == "<!DOCTYPE html> 网页打不开了"
