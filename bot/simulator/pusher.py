"""Sends messages to a Jinlin webhook the way WeChat's servers do (simulator, benchmarks, tests)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import aiohttp
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from bot.core.config import WeChatConfig
from bot.core.inbound import inbound_from
from bot.wechat.protocol import message_xml, sign

_msg_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


@dataclass(frozen=True)
class Answer:
    """The webhook's HTTP answer, with the reply decrypted and read when there is one."""

    status: int
    body: str
    content: str | None  # the text of a text reply

    @property
    def empty(self) -> bool:
        return self.status == 200 and self.body in ("", "success")


class WeChatPusher:
    """Builds, signs (and in safe/compat mode encrypts) messages and posts them to /wechat."""

    def __init__(
        self,
        url: str,
        config: WeChatConfig,
        session: aiohttp.ClientSession,
        on_interaction: Callable[[str, str], None] | None = None,
    ) -> None:
        self.url = url
        self.config = config
        self.session = session
        # WeChat itself knows every interaction (it opens the 48-hour window); a stand-in for
        # its API learns of them through this.
        self.on_interaction = on_interaction
        self.crypto = (
            WeChatCrypto(config.token, config.encoding_aes_key, config.appid)
            if config.mode != "plain"
            else None
        )

    @staticmethod
    def new_msg_id() -> int:
        return next(_msg_ids)

    @staticmethod
    def _xml(openid: str, msg_type: str, created: int | None = None, **fields: Any) -> str:
        """A message from `openid` to the account: WeChat's envelope fields, then `fields`."""
        head = {
            "ToUserName": "gh_jinlin",
            "FromUserName": openid,
            "CreateTime": created if created is not None else int(time.time()),
            "MsgType": msg_type,
        }
        return message_xml(head | fields)

    def text_xml(self, openid: str, content: str, msg_id: int | None = None) -> str:
        msg_id = msg_id if msg_id is not None else self.new_msg_id()
        return self._xml(openid, "text", Content=content, MsgId=msg_id)

    def voice_xml(self, openid: str, recognition: str, msg_id: int | None = None) -> str:
        """A voice message as WeChat sends it with speech recognition on for the account."""
        msg_id = msg_id if msg_id is not None else self.new_msg_id()
        return self._xml(
            openid,
            "voice",
            MediaId=f"media_{msg_id}",
            Format="amr",
            Recognition=recognition,
            MsgId=msg_id,
        )

    def location_xml(self, openid: str, latitude: float, longitude: float, label: str) -> str:
        """A location message (the user picked a place on the map)."""
        return self._xml(
            openid,
            "location",
            Location_X=f"{latitude:.6f}",
            Location_Y=f"{longitude:.6f}",
            Scale=16,
            Label=label,
            MsgId=self.new_msg_id(),
        )

    def event_xml(self, openid: str, event: str, key: str = "", created: int | None = None) -> str:
        return self._xml(
            openid, "event", created, Event=event, **({"EventKey": key} if key else {})
        )

    def signed(self, xml: str, encrypt: bool | None = None) -> tuple[dict[str, str], str]:
        """The query string and body WeChat would send for `xml`."""
        timestamp, nonce = str(int(time.time())), str(next(_msg_ids) % 10**9)
        query = {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": sign(self.config.token, timestamp, nonce),
        }
        if encrypt is None:
            encrypt = self.crypto is not None
        if not encrypt or self.crypto is None:
            return query, xml
        envelope = self.crypto.encrypt_message(xml, nonce, timestamp)
        encrypted = ElementTree.fromstring(envelope).findtext("Encrypt") or ""
        query["encrypt_type"] = "aes"
        query["msg_signature"] = sign(self.config.token, timestamp, nonce, encrypted)
        if self.config.mode == "compat":
            # Compatible mode carries the plaintext fields and the <Encrypt> element together.
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        else:
            body = f"<xml><ToUserName><![CDATA[gh_jinlin]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return query, body

    async def post(self, xml: str, encrypt: bool | None = None) -> Answer:
        """Post one message and read the reply."""
        if self.on_interaction is not None:
            inbound = inbound_from(parse_message(xml))
            if inbound.interaction:
                self.on_interaction(inbound.openid, inbound.interaction)
        query, body = self.signed(xml, encrypt)
        async with self.session.post(self.url, params=query, data=body.encode()) as response:
            text = await response.text()
            return Answer(response.status, text, self._content(text, query))

    async def text(self, openid: str, content: str, msg_id: int | None = None) -> Answer:
        """Send a text message from `openid`."""
        return await self.post(self.text_xml(openid, content, msg_id))

    def _content(self, body: str, query: dict[str, str]) -> str | None:
        if not body.startswith("<xml>"):
            return None
        if "<Encrypt>" in body and self.crypto is not None:
            root = ElementTree.fromstring(body)
            body = self.crypto.decrypt_message(
                body,
                root.findtext("MsgSignature"),
                root.findtext("TimeStamp"),
                root.findtext("Nonce"),
            )
        return ElementTree.fromstring(body).findtext("Content")
