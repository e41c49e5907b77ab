"""What people read: every message about a request is composed here, in one voice."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from nlp import CATEGORIES
from storage.models import HelpRequest, Status, Volunteer

WEEKDAYS = "一二三四五六日"
STATUS_WORDS: dict[str, str] = {
    Status.OPEN: "等待安排",
    Status.OFFERED: "正在联系志愿者",
    Status.ESCALATED: "已请社区工作人员协调",
    Status.ACCEPTED: "志愿者已接单",
    Status.DONE: "志愿者已完成，等您评价",
    Status.CLOSED: "已结束",
    Status.CANCELLED: "已取消",
    Status.EXPIRED: "已过期",
}
# Who a request is for, as someone other than its sender names the sender's kin: the stored
# words are the sender's own (我妈), which read back to them, or to a volunteer, say the
# wrong person ("my mum"). Kin words without 我 (给妈妈买药) are the sender's too; anyone
# else (楼下王奶奶, 隔壁张阿姨) reads the same to everyone and is shown as written.
_OWN_PREFIXES = ("我们家", "家里的", "我家", "家里", "我")
KIN: dict[str, str] = {
    **dict.fromkeys(("妈", "妈妈", "老妈", "阿妈", "母亲"), "母亲"),
    **dict.fromkeys(("爸", "爸爸", "老爸", "阿爸", "父亲"), "父亲"),
    **dict.fromkeys(("爸妈", "父母"), "父母"),
    **dict.fromkeys(("老公", "丈夫"), "丈夫"),
    **dict.fromkeys(("老婆", "妻子"), "妻子"),
    **dict.fromkeys(("老伴", "老头子"), "老伴"),
    **dict.fromkeys(("孩子", "小孩", "宝宝"), "孩子"),
    **{word: word for word in ("爱人", "媳妇", "儿子", "女儿", "孙子", "孙女", "外孙")},
    **{word: word for word in ("外孙女", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷")},
    **{word: word for word in ("阿公", "阿婆", "阿嬷", "婆婆", "公公", "岳母", "岳父")},
    **dict.fromkeys(("老人", "老人家"), "老人"),
    "老太太": "老太太",
}
# Said with 家 (您家老人, 居民家的老人), not as one person's own (您老人).
_HOUSEHOLD = frozenset(("老人", "老太太"))
# Numbers that must never reach a volunteer who has not accepted: mobiles and landlines.
_PHONE_LIKE = re.compile(r"(?<!\d)(?:1[3-9]\d(?:[\s-]?\d){8}|0\d{2,3}[\s-]?\d{7,8})(?!\d)")


def category_name(category: str) -> str:
    """The Chinese name of a category (助医, 维修, ...)."""
    return CATEGORIES.get(category, "其他")


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A stored UTC time as naive local wall-clock time."""
    return moment.astimezone(tz).replace(tzinfo=None)


def when_text(request: HelpRequest, tz: ZoneInfo, today: datetime) -> str:
    """The wanted time as people say it: 今天 15:00, 明天（11月24日）, 周五 09:00."""
    if request.when_at is None:
        return "尽快" if request.urgency != "normal" else "时间待商量"
    at = local(request.when_at, tz)
    days = (at.date() - today.date()).days
    day = {0: "今天", 1: "明天", 2: "后天"}.get(days)
    if day is None:
        day = f"{at.month}月{at.day}日（周{WEEKDAYS[at.weekday()]}）"
    else:
        day += f"（{at.month}月{at.day}日）"
    return f"{day} {at:%H:%M}" if request.when_has_time else day


def place_text(compound: str | None, request: HelpRequest, *, private: bool) -> str:
    """Compound and building; unit and room only when `private` details may be shown."""
    parts = [compound or ""]
    if request.building:
        parts.append(f"{request.building}号楼")
    if private and request.unit:
        parts.append(f"{request.unit}单元")
    if private and request.room:
        parts.append(f"{request.room}室")
    return "".join(parts) or "地点待确认"


def need_text(request: HelpRequest) -> str:
    """The request's own words without phone numbers and the room, as an offer may show them."""
    text = _PHONE_LIKE.sub("***", request.text or "")
    if request.room:
        text = re.sub(rf"(?<!\d){re.escape(request.room)}(?!\d)", "***", text)
    return text.strip()


def for_whom(beneficiary: str, *, whose: str) -> str:
    """Who a request is for, as the reader says it: to its sender (`whose` 您) 我妈 is 您母亲,
    to others (`whose` 居民, 求助人) 居民的母亲; someone not the sender's kin as written."""
    for prefix in _OWN_PREFIXES:
        if beneficiary.startswith(prefix) and len(beneficiary) > len(prefix):
            person, household = beneficiary[len(prefix) :], "家" in prefix
            break
    else:
        if beneficiary not in KIN:
            return beneficiary
        person, household = beneficiary, False
    noun = KIN.get(person, person)
    home = "家" if household or noun in _HOUSEHOLD else ""
    return f"您{home}{noun}" if whose == "您" else f"{whose}{home}的{noun}"


def headline(request: HelpRequest) -> str:
    """#12 助医 (紧急)."""
    mark = {"emergency": "【紧急】", "urgent": "【急】"}.get(request.urgency, "")
    return f"{mark}#{request.id} {category_name(request.category)}"


def offer(request: HelpRequest, compound: str | None, tz: ZoneInfo, today: datetime) -> str:
    """An offer to a volunteer: category, compound, building, time and need, nothing private."""
    who = _for_whom_aside(request)
    return (
        f"有邻居需要帮忙 {headline(request)}\n"
        f"地点：{place_text(compound, request, private=False)}\n"
        f"时间：{when_text(request, tz, today)}\n"
        f"需要{who}：{need_text(request)}\n"
        f"能去请回复“接单 #{request.id}”，去不了回复“放弃 #{request.id}”。"
    )


def task_details(
    request: HelpRequest, compound: str | None, phone: str | None, tz: ZoneInfo, today: datetime
) -> str:
    """Everything the accepting volunteer needs, including the private details."""
    who = _for_whom_aside(request)
    lines = [
        f"任务 {headline(request)}",
        f"地点：{place_text(compound, request, private=True)}",
        f"时间：{when_text(request, tz, today)}",
        f"需要{who}：{request.text or ''}",
        f"联系电话：{phone}" if phone else "联系电话：居民未留",
        f"想对居民说什么，直接在这里回复，我会转给对方（开头写“#{request.id}”更准确）。",
        f"办完请回复“完成 #{request.id}”；去不了请回复“放弃 #{request.id}”。",
    ]
    return "\n".join(lines)


def _for_whom_aside(request: HelpRequest) -> str:
    """（为居民的母亲）after 需要 in what a volunteer reads; nothing when it is for the sender."""
    if not request.beneficiary:
        return ""
    return f"（为{for_whom(request.beneficiary, whose='居民')}）"


def volunteer_card(volunteer: Volunteer) -> str:
    """How a resident is told who is coming."""
    phone = f"（电话 {volunteer.phone}）" if volunteer.phone else ""
    return f"志愿者{volunteer.name}{phone}"


def status_line(request: HelpRequest, tz: ZoneInfo, today: datetime) -> str:
    """One line of a resident's 进度 list."""
    return (
        f"{headline(request)} · {when_text(request, tz, today)} · "
        f"{STATUS_WORDS.get(request.status, request.status)}"
    )


def only_one(
    found: list[HelpRequest], *, none: str, several: str, example: str
) -> HelpRequest | str:
    """The only request in `found`; else what to say: `none`, or ask which of several (the
    `example` command shows the first number in place of {n})."""
    if len(found) == 1:
        return found[0]
    if not found:
        return none
    numbers = "、".join(f"#{r.id}" for r in found[:5])
    return f"{several}（{numbers}），请带上编号，例如“{example.format(n=found[0].id)}”。"


def hours(minutes: int) -> str:
    """Credited time as hours with at most one decimal."""
    value = minutes / 60
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def emergency_advice(category: str, text: str) -> str:
    """What to do right now when life or property is in danger (who was alerted is told
    apart, from what really happened)."""
    if category in ("medical", "elderly", "disability", "childcare"):
        action = "请马上拨打 120"
    elif any(word in text for word in ("煤气", "燃气", "天然气")):
        action = "请马上关掉燃气阀门、开窗通风，不要开关电器，到室外拨打 119"
    elif category == "safety" and any(
        w in text for w in ("小偷", "可疑", "撬", "打人", "抢", "偷")
    ):
        action = "请马上拨打 110"
    elif category == "safety":
        action = "请马上拨打 119"
    elif category == "repair":
        action = "请先关掉家里的总水阀或电闸，注意安全；有危险请拨打 119"
    else:
        action = "有危险请马上拨打 110"
    return f"情况紧急！{action}。"


def conversation_closed(request: HelpRequest) -> str:
    """The one line both sides get when a request closes and its relay with it."""
    return f"求助 #{request.id} 已结束，公众号不再转达你们之间的消息。"
