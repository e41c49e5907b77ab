"""What arrived from WeChat, as plain data: handlers never see XML."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from storage.errors import InvalidInput
from storage.models import DEDUP_KEY_LENGTH, OPENID_LENGTH

# Events that only report delivery results; they arrive in bursts and are acknowledged at once.
DELIVERY_REPORTS = frozenset({"templatesendjobfinish", "masssendjobfinish"})


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message or event from a user."""

    openid: str
    kind: str  # text, voice, image, location, event, or the unknown type as sent
    created: int
    msg_id: str | None = None
    text: str | None = None  # the text, or a voice message's recognition
    event: str | None = None  # lower case: subscribe, unsubscribe, click, view, location, ...
    event_key: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    media_id: str | None = None
    account: str = ""  # the Official Account's own id (ToUserName), the sender of replies

    @property
    def dedup_key(self) -> str:
        """The key under which WeChat's re-deliveries of this message are recognised."""
        rest = self.msg_id or f"{self.created}:{self.event or self.kind}:{self.event_key or ''}"
        if len(self.openid) + 1 + len(rest) > DEDUP_KEY_LENGTH:
            # A VIEW event's key is a whole URL: a digest of it fits the column where cutting it
            # short could make two messages one; the openid stays readable, so erasing a
            # person's data still finds their keys.
            rest = "sha256:" + hashlib.sha256(rest.encode()).hexdigest()
        return f"{self.openid}:{rest}"

    @property
    def interaction(self) -> str | None:
        """How this arrival opens the 48-hour window: message, click, follow, or not at all."""
        if self.kind != "event":
            return "message"
        if self.event in ("click", "view", "scancode_push", "scancode_waitmsg"):
            return "click"
        if self.event in ("subscribe", "subscribe_scan", "scan"):
            return "follow"
        return None


def inbound_from(message: Any) -> Inbound:
    """Turn a parsed wechatpy message into an Inbound; InvalidInput when it cannot be one."""
    raw: dict[str, Any] = message._data
    field = _Fields(raw)
    openid, account = field.text("FromUserName"), field.text("ToUserName")
    # Without a sender every such message would belong to one shared user; without the
    # account there is nobody to reply as.
    if not openid.strip() or not account.strip():
        raise InvalidInput("FromUserName and ToUserName must not be empty")
    if len(openid) > OPENID_LENGTH:
        raise InvalidInput(f"FromUserName longer than {OPENID_LENGTH} characters")
    # WeChat's openids are letters, digits, - and _; whitespace or a control character would
    # not survive the XML reader's line-end folding unchanged, and could make two users one.
    if any(ch.isspace() or not ch.isprintable() for ch in openid):
        raise InvalidInput("FromUserName holds whitespace or control characters")
    kind = (field.text("MsgType") or "unknown").lower()
    event = field.text("Event").lower() if kind == "event" else ""
    text = field.text("Content") if kind == "text" else None
    if kind == "voice":
        text = field.text("Recognition") or None
    latitude = field.text("Location_X" if kind == "location" else "Latitude")
    longitude = field.text("Location_Y" if kind == "location" else "Longitude")
    return Inbound(
        openid=openid,
        kind=kind,
        created=int(field.text("CreateTime") or 0),
        msg_id=field.text("MsgId") or None,
        text=text,
        event=event or None,
        event_key=field.text("EventKey") or None,
        latitude=float(latitude) if latitude else None,
        longitude=float(longitude) if longitude else None,
        label=field.text("Label") or None,
        media_id=field.text("MediaId") or None,
        account=account,
    )


class _Fields:
    """The message's fields as text: a field holding elements instead is malformed."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def text(self, name: str) -> str:
        value = self._raw.get(name)
        if value is None:
            return ""
        if not isinstance(value, str | int | float):
            raise InvalidInput(f"{name} holds elements, not text")
        return str(value)
