"""Calendar arithmetic for day expressions: weekdays, days of the month, month-day dates."""

from __future__ import annotations

from datetime import date, timedelta

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
WEEKDAYS |= {str(i + 1): i for i in range(7)}


def weekday_date(today: date, weekday: int, modifier: str | None) -> date | None:
    """周N: the next such weekday on or after today; 下周N: in the following Monday week."""
    modifier = (modifier or "").removesuffix("个")  # 下个礼拜六 = 下礼拜六
    if modifier == "上":
        return None  # last week: past, never the help's day
    if modifier in ("下", "下下"):
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=7 * len(modifier) + weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def month_day_date(today: date, month: int, dom: int) -> date | None:
    """M月N日: that date this year, or next year if already past."""
    for year in (today.year, today.year + 1):
        found = _date(year, month, dom)
        if found and found >= today:
            return found
    return None


def day_of_month_date(today: date, dom: int) -> date | None:
    """N号: that day of this month, or of the next month that has it if already past."""
    first = today.replace(day=1)
    for shift in range(3):
        month_start = (first + timedelta(days=32 * shift)).replace(day=1)
        found = _date(month_start.year, month_start.month, dom)
        if found and found >= today:
            return found
    return None


def _date(year: int, month: int, dom: int) -> date | None:
    try:
        return date(year, month, dom)
    except ValueError:
        return None
