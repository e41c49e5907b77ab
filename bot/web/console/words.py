"""The console's words for stored values, and how it shows times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nlp import CATEGORIES
from storage.models import Status

STATUS: dict[str, str] = {
    Status.ESCALATED: "待派单",
    Status.OPEN: "待安排",
    Status.OFFERED: "联系中",
    Status.ACCEPTED: "进行中",
    Status.DONE: "待评价",
    Status.CLOSED: "已结束",
    Status.CANCELLED: "已取消",
    Status.EXPIRED: "已过期",
}
URGENCY: dict[str, str] = {"normal": "一般", "urgent": "急", "emergency": "紧急"}
CATEGORY: dict[str, str] = dict(CATEGORIES)
TIERS = ("本小区", "本社区", "本街道")
ASSIGNABLE = frozenset({Status.OPEN, Status.OFFERED, Status.ESCALATED})
EVENTS: dict[str, str] = {
    "created": "提出求助",
    "offered": "推送给志愿者",
    "accepted": "志愿者接单",
    "assigned": "社区派单",
    "declined": "志愿者婉拒",
    "released": "志愿者放弃",
    "done": "志愿者完成",
    "rated": "居民评价",
    "closed": "结束",
    "auto_closed": "自动结束",
    "located": "补充地点",
    "described": "补充需要",
    "cancelled": "居民取消",
    "expired": "过期",
    "escalated": "社区吹哨",
    "complaint": "居民投诉",
}
OUTCOMES: dict[str, str] = {
    "accepted": "接单",
    "taken": "已被他人接单",
    "declined": "婉拒",
    "closed": "已结束",
}


def local_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """11月23日 14:05 in the community's time; "" for none."""
    if moment is None:
        return ""
    at = moment.astimezone(tz)
    return f"{at.month}月{at.day}日 {at:%H:%M}"
