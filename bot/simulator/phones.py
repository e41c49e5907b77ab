"""Every persona's WeChat app: what they do goes to Jinlin's webhook exactly as WeChat sends
it (signed, encrypted in safe mode); what the account sends them lands in their chat."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import aiohttp

from bot.core.config import Config
from bot.simulator.chat import Change, ChatLog
from bot.simulator.demo import copy_windows
from bot.simulator.personas import BY_OPENID, GATES, STREET, Persona
from bot.simulator.pusher import Answer, WeChatPusher
from bot.simulator.standin import AFTER_MESSAGE_QUOTA, Delivered, StandinState, Window
from storage.db import Database
from storage.errors import InvalidInput

logger = logging.getLogger(__name__)

DEADLINE = 5.0  # seconds WeChat waits for the webhook's answer
TRIES = 3  # WeChat's first delivery and its retries
UNAVAILABLE = "该公众号暂时无法提供服务，请稍后再试"
KINDS = ("text", "voice", "location", "click", "subscribe", "unsubscribe")
STREET_CENTRE = (39.9066, 116.4054)


class Phones:
    """The personas' side of WeChat, with the controls a developer needs over its rules."""

    def __init__(self, config: Config, standin: StandinState, chat: ChatLog) -> None:
        self.config = config
        self.standin = standin
        self.chat = chat
        self.webhook_url = f"http://{config.server.host}:{config.server.port}/wechat"
        self.db: Database | None = None  # Jinlin's, once it runs (for the window controls)
        self._http: aiohttp.ClientSession | None = None
        standin.on_deliver.append(self._delivered)

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DEADLINE))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    # --- what a persona does --------------------------------------------------------------

    async def act(self, openid: str, kind: str, text: str = "", key: str = "") -> None:
        """Do what the persona did on their phone; InvalidInput (in Chinese) if they cannot."""
        persona = self.persona(openid)
        if kind not in KINDS:
            raise InvalidInput(f"不支持的消息类型：{kind}")
        following = self.standin.is_following(openid)
        if kind == "subscribe" and following:
            raise InvalidInput("已经关注了公众号")
        if kind != "subscribe" and not following:
            raise InvalidInput("请先关注公众号")
        text = text.strip()
        if kind in ("text", "voice") and not text:
            raise InvalidInput("请输入要发送的内容")
        if kind == "click" and key not in self.menu_keys():
            raise InvalidInput("菜单里没有这一项")
        pusher = self._pusher()
        if kind == "text":
            xml, shown = pusher.text_xml(openid, text), text
        elif kind == "voice":
            xml, shown = pusher.voice_xml(openid, text), text
        elif kind == "location":
            label = persona.compound or STREET
            latitude, longitude = GATES.get(persona.compound or "", STREET_CENTRE)
            xml, shown = pusher.location_xml(openid, latitude, longitude, label), label
        elif kind == "click":
            xml, shown = pusher.event_xml(openid, "CLICK", key), self.menu_keys()[key]
        else:
            xml, shown = pusher.event_xml(openid, kind), ""
        self.chat.add(openid, "user", kind, shown)
        if kind == "unsubscribe":
            self.standin.unfollow(openid)
        answer = await self._deliver(pusher, xml)
        if answer is None:
            self.chat.add(openid, "note", "note", UNAVAILABLE)
        elif answer.content and kind == "unsubscribe":
            # WeChat delivers nothing to someone who just left; say so rather than hide it.
            self.chat.add(
                openid, "note", "note", f"公众号回复了，但已取消关注，收不到：{answer.content}"
            )
        elif answer.content:
            self.chat.add(openid, "bot", "reply", answer.content)
        self.chat.publish(Change("status", openid))

    def persona(self, openid: str) -> Persona:
        found = BY_OPENID.get(openid)
        if found is None:
            raise InvalidInput(f"没有这个角色：{openid}")
        return found

    def menu_keys(self) -> dict[str, str]:
        """The CLICK buttons of the menu the bot installed: key → name."""
        keys: dict[str, str] = {}
        for button in self.standin.menu or []:
            for item in [button, *(button.get("sub_button") or [])]:
                if item.get("type") == "click" and item.get("key"):
                    keys[str(item["key"])] = str(item.get("name", ""))
        return keys

    def _pusher(self) -> WeChatPusher:
        assert self._http is not None, "Phones.start() first"
        return WeChatPusher(self.webhook_url, self.config.wechat, self._http, self._interacted)

    def _interacted(self, openid: str, kind: str) -> None:
        # WeChat itself sees each interaction; it opens the window (and a follow, following).
        if kind == "follow":
            self.standin.follow(openid)
        else:
            self.standin.interact(openid, kind)

    async def _deliver(self, pusher: WeChatPusher, xml: str) -> Answer | None:
        """Post like WeChat: no answer within 5 s, or an error, and it tries again (the
        retries carry the same message, which Jinlin recognises); None if all failed."""
        for attempt in range(1, TRIES + 1):
            try:
                answer = await pusher.post(xml)
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.warning("webhook try %d failed: %s", attempt, exc.__class__.__name__)
                continue
            if answer.status == 200:
                return answer
            logger.warning("webhook try %d answered HTTP %d", attempt, answer.status)
        return None

    # --- what the account sent --------------------------------------------------------------

    def _delivered(self, message: Delivered) -> None:
        fields: list[tuple[str, str]] = []
        if message.kind == "template":
            data: dict[str, Any] = message.data or {}
            fields = [(k, str((v or {}).get("value", ""))) for k, v in data.items()]
        text = message.text or " ".join(value for _, value in fields)
        self.chat.add(message.openid, "bot", message.kind, text, fields)
        self.chat.publish(Change("status", message.openid))

    # --- the window and quota controls -------------------------------------------------------

    async def set_back(self, openid: str, hours: float) -> None:
        """Move the persona's last interaction `hours` back, in WeChat and in Jinlin alike."""
        self.persona(openid)
        if not 0 < hours <= 24 * 30:
            raise InvalidInput("只能往前拨 0 到 720 小时")
        window = self.standin.window_of(openid)
        if window is None:
            raise InvalidInput("这个角色还没有和公众号互动过")
        moved = Window(window.kind, window.at - timedelta(hours=hours), window.sent)
        await self._set_window(openid, moved)

    async def use_quota(self, openid: str) -> None:
        """Use up the persona's customer-service quota, as if many messages had gone out."""
        self.persona(openid)
        window = self.standin.window_of(openid)
        if window is None:
            raise InvalidInput("这个角色还没有和公众号互动过")
        await self._set_window(openid, Window(window.kind, window.at, AFTER_MESSAGE_QUOTA))

    async def _set_window(self, openid: str, window: Window) -> None:
        self.standin.set_window(openid, window)
        if self.db is not None:
            await copy_windows(self.db, self.standin, [openid])
        self.chat.publish(Change("status", openid))
