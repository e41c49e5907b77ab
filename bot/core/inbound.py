"""What arrived from WeChat, as plain data: handlers never see XML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        if self.msg_id:
            return f"{self.openid}:{self.msg_id}"
        return f"{self.openid}:{self.created}:{self.event or self.kind}:{self.event_key or ''}"

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
    """Turn a parsed wechatpy message into an Inbound."""
    raw: dict[str, Any] = message._data
    kind = str(raw.get("MsgType", "unknown")).lower()
    event = str(raw["Event"]).lower() if kind == "event" and raw.get("Event") else None
    text = raw.get("Content") if kind == "text" else None
    if kind == "voice":
        text = raw.get("Recognition") or None
    latitude = raw.get("Location_X") if kind == "location" else raw.get("Latitude")
    longitude = raw.get("Location_Y") if kind == "location" else raw.get("Longitude")
    return Inbound(
        openid=str(raw["FromUserName"]),
        kind=kind,
        created=int(raw.get("CreateTime") or 0),
        msg_id=str(raw["MsgId"]) if raw.get("MsgId") else None,
        text=str(text) if text is not None else None,
        event=event,
        event_key=str(raw["EventKey"]) if raw.get("EventKey") else None,
        latitude=float(latitude) if latitude else None,
        longitude=float(longitude) if longitude else None,
        label=raw.get("Label"),
        media_id=raw.get("MediaId"),
        account=str(raw.get("ToUserName") or ""),
    )
