"""When a volunteer can help: named slots of the week, as stored on the volunteer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

# Slot names, as stored ("|"-joined) and offered in the sign-up question.
SLOTS = {
    "weekday_day": "工作日白天",
    "weekday_evening": "工作日晚上",
    "weekend_day": "周末白天",
    "weekend_evening": "周末晚上",
    "anytime": "随时",
}
DAY_STARTS, EVENING_STARTS, NIGHT_STARTS = 7, 18, 22

_DAYS = ("weekday_day", "weekend_day")
_EVENINGS = ("weekday_evening", "weekend_evening")
# Words people (and rosters) use for when they are free, and the slots each stands for.
WORDS: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in SLOTS},
    **{chinese: (name,) for name, chinese in SLOTS.items()},
    "都行": ("anytime",),
    "都可以": ("anytime",),
    "weekday": ("weekday_day", "weekday_evening"),
    "工作日": ("weekday_day", "weekday_evening"),
    "weekend": ("weekend_day", "weekend_evening"),
    "周末": ("weekend_day", "weekend_evening"),
    "day": _DAYS,
    "白天": _DAYS,
    "morning": _DAYS,
    "上午": _DAYS,
    "afternoon": _DAYS,
    "下午": _DAYS,
    "evening": _EVENINGS,
    "晚上": _EVENINGS,
    # How people say it in chat: 平时 is the working week, after work its evenings.
    "平时": ("weekday_day", "weekday_evening"),
    "平时白天": ("weekday_day",),
    "平时晚上": ("weekday_evening",),
    "周一到周五": ("weekday_day", "weekday_evening"),
    "下班后": ("weekday_evening",),
    "下班以后": ("weekday_evening",),
    "早上": _DAYS,
    "中午": _DAYS,
    "双休日": ("weekend_day", "weekend_evening"),
}


def slot_of(local_at: datetime) -> str | None:
    """The slot a local time falls in; None at night (only "anytime" volunteers then)."""
    if not DAY_STARTS <= local_at.hour < NIGHT_STARTS:
        return None
    week = "weekend" if local_at.weekday() >= 5 else "weekday"
    part = "day" if local_at.hour < EVENING_STARTS else "evening"
    return f"{week}_{part}"


def is_available(slots: Iterable[str], local_at: datetime, has_time: bool) -> bool:
    """Whether someone with these slots can help at `local_at` (any part of that day if no hour)."""
    slots = set(slots)
    if "anytime" in slots:
        return True
    if has_time:
        return slot_of(local_at) in slots
    week = "weekend" if local_at.weekday() >= 5 else "weekday"
    return any(slot.startswith(week) for slot in slots)


def slots_in(text: str) -> list[str]:
    """The slots named in free text, longest words first (工作日白天 is not also 白天)."""
    found: list[str] = []
    rest = text.lower()
    for word in sorted(WORDS, key=len, reverse=True):
        if word in rest:
            rest = rest.replace(word, " ")
            found += [slot for slot in WORDS[word] if slot not in found]
    return found
