"""WeChat's server protocol: signatures, AES envelopes, message parsing and passive replies."""

from __future__ import annotations

import binascii
import hmac
import re
import struct
import time
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from bot.core.config import WeChatConfig
from bot.core.inbound import Inbound, inbound_from
from storage.errors import InvalidInput

# Expat expands internal entities declared in a DTD; WeChat never sends one, so refuse any.
_DECLARATION = re.compile(r"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.DOTALL)


class BadSignature(InvalidInput):
    """The request is not from WeChat (or is too old to trust)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """An inbound POST after the signature check: the message and how to answer it."""

    inbound: Inbound
    encrypted: bool
    nonce: str
    timestamp: str


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 over the sorted parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


class WeChatProtocol:
    """The pure-CPU half of the webhook for one account's configuration."""

    def __init__(self, config: WeChatConfig, replay_window: float) -> None:
        self.config = config
        self.replay_window = replay_window
        self.crypto = (
            WeChatCrypto(config.token, config.encoding_aes_key, config.appid)
            if config.mode != "plain"
            else None
        )

    def verify(self, query: dict[str, str], *extra: str, key: str = "signature") -> None:
        """Check a signature over token, timestamp, nonce (and extra) in constant time."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        given = query.get(key, "")
        if not (timestamp and nonce and given):
            raise BadSignature("missing signature parameters")
        expected = sign(self.config.token, timestamp, nonce, *extra)
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise BadSignature("signature mismatch")
        if self.replay_window > 0:
            try:
                age = abs(time.time() - int(timestamp))
            except ValueError:
                raise BadSignature("timestamp is not a number") from None
            if age > self.replay_window:
                raise BadSignature(f"timestamp {age:.0f}s away from now")

    def open(self, query: dict[str, str], body: bytes) -> Envelope:
        """Verify and decode an inbound POST body into an Envelope."""
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if self.config.mode == "safe" and not encrypted:
            raise BadSignature("safe mode accepts only encrypted messages")
        self.verify(query)
        if encrypted:
            if self.crypto is None:
                raise InvalidInput("encrypted message but mode is plain")
            xml = self._decrypt(query, body)
        else:
            try:
                xml = body.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput("body is not UTF-8") from None
        return Envelope(
            inbound=self._parse(xml),
            encrypted=encrypted,
            nonce=query["nonce"],
            timestamp=query["timestamp"],
        )

    def _decrypt(self, query: dict[str, str], body: bytes) -> str:
        assert self.crypto is not None
        match = re.search(rb"<Encrypt><!\[CDATA\[([^\]]+)\]\]></Encrypt>", body)
        if not match:
            raise InvalidInput("encrypted message without <Encrypt>")
        encrypt = match[1].decode("ascii", errors="replace")
        self.verify(query, encrypt, key="msg_signature")
        try:
            return str(
                self.crypto.decrypt_message(
                    {"Encrypt": encrypt}, query["msg_signature"], query["timestamp"], query["nonce"]
                )
            )
        except InvalidSignatureException:
            raise BadSignature("msg_signature mismatch") from None
        except InvalidAppIdException:
            raise BadSignature("message is for another appid") from None
        except (ValueError, binascii.Error, struct.error, UnicodeDecodeError, IndexError):
            raise InvalidInput("Encrypt does not decrypt") from None

    @staticmethod
    def _parse(xml: str) -> Inbound:
        if _declares(xml):
            raise InvalidInput("XML declarations (DTD/entities) are not accepted")
        try:
            message = parse_message(xml)
            if message is None:
                raise InvalidInput("empty body")
            return inbound_from(message)
        except (ExpatError, KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise InvalidInput(f"malformed message XML ({exc.__class__.__name__})") from None

    def reply(self, envelope: Envelope, text: str | None) -> str:
        """The passive reply body: a text reply, or "success" for none, encrypted if asked."""
        if not text:
            return "success"
        inbound = envelope.inbound
        reply = TextReply(source=inbound.account, target=inbound.openid, content=text)
        xml: str = reply.render()
        if envelope.encrypted and self.crypto is not None:
            return str(self.crypto.encrypt_message(xml, envelope.nonce, envelope.timestamp))
        return xml


def _declares(xml: str) -> bool:
    """Whether `xml` has a markup declaration (<!DOCTYPE, <!ENTITY, ...) outside CDATA."""
    # Every "<!" in WeChat's own XML opens a CDATA section. Counting is a scan at C speed, so
    # the patterns run only for the rare message with another kind (or "<!" in its text).
    if xml.count("<!") == xml.count("<![CDATA["):
        return False
    return _DECLARATION.search(_CDATA.sub("", xml)) is not None


def message_xml(fields: dict[str, Any]) -> str:
    """Render a flat dict as WeChat's message XML (used by the simulator and tests)."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, int | float):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            # "]]>" inside the text would end the section: split it across two sections.
            text = str(value).replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{name}><![CDATA[{text}]]></{name}>")
    return "<xml>" + "".join(parts) + "</xml>"
