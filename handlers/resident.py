"""Residents: asking for help, the place question, progress, cancelling."""

from __future__ import annotations

from enum import Enum
from typing import Any

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import assignment, dialog, menu, texts
from handlers.places import (
    Location,
    answer_location,
    choices_question,
    compound_choices,
    compound_named,
    locate,
    picked_compound,
    remember_home,
)
from nlp import Parse
from storage import conversations, org, requests, volunteers
from storage.errors import NotFound
from storage.models import HelpRequest, Status, User
from storage.org import Place
from storage.requests import ACTIVE, NewRequest

router = Router("resident")

# Answers that mean "I can't say where": the request goes out with what is known. Dialect
# and elderly ways of saying it too (不晓得, 记不清): read as a new need, they once left the
# request unplaced and made a second one out of the answer.
DONT_KNOW = (
    "不知道",
    "不清楚",
    "不方便",
    "跳过",
    "算了",
    "不晓得",
    "晓不得",
    "不记得",
    "记不得",
    "记不清",
    "忘了",
    "唔知",
)
PROGRESS_LINES = 10  # requests listed by 进度, newest first
# The characters of a plea with nothing else in it (帮帮我, 能帮我一下吗, 求求你们帮个忙).
PLEA_WORDS = frozenset("帮忙我你您们他她谁能可以请求一下个点吗嘛呀啊吧呢了哦")
ASK_THE_NEED = (
    "请说说需要帮什么忙：什么事、什么时间、在哪里，比如“明天上午帮我买点菜”“家里水管漏水了”。"
    "情况紧急的话请直接拨打 120 或 110。不方便打字的话不用回复，社区工作人员会联系您。"
)
# A bare plea unanswered: the workers are asked to call, not volunteers to guess.
UNSAID_NEED = "居民只说了需要帮忙，没说是什么事，请电话联系"
# Answers to "what for?" that say they cannot say it.
CANNOT_SAY = ("不知道", "说不清", "说不出", "不晓得", "不会打字", "讲不清")


class RequestFlow(Enum):
    """A request waiting for its place: PLACE → (routed); or for what it is for (a bare
    帮帮我): NEED → (PLACE →) (routed)."""

    PLACE = "place"
    NEED = "need"


@router.text("request_help")
async def ask_for_help(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    if _plea_only(parse, msg.text or ""):
        return await _ask_the_need(ctx, msg, parse, user)
    return await _take_request(ctx, msg, parse, user)


async def _take_request(
    ctx: Ctx, msg: Inbound, parse: Parse, user: User, *, into: HelpRequest | None = None
) -> str:
    """Store and route what the resident asked for; `into` a request stored before its need
    was said (NEED), which then takes it, keeping its number."""
    for_self = parse.beneficiary is None
    location = await locate(ctx, user, parse, for_self=for_self)
    data = NewRequest(
        category=parse.category or "other",
        urgency=parse.urgency or "normal",
        text=msg.text or "",
        beneficiary=parse.beneficiary,
        when_at=ctx.to_utc(parse.when_at) if parse.when_at else None,
        when_has_time=parse.when_has_time,
        compound_id=location.place.compound_id if location.place else None,
        building=location.building,
        unit=location.unit,
        room=location.room,
        phone=parse.phone,
    )
    emergency = data.urgency == "emergency"
    # An emergency goes out at once, with whatever place is known; otherwise ask first. A
    # request that goes out now is planned before it is stored, and stored in the state the
    # plan puts it in (see assignment.plan).
    routing = emergency or not location.missing
    place = (location.place or await assignment.fallback_place(ctx)) if routing else None
    planned = (
        await assignment.plan(ctx, place, data, placed=location.place is not None)
        if place is not None
        else assignment.NO_PLACE
    )
    # The home first: the user's row is then written with the request, not after it.
    if parse.phone and not user.phone and for_self:
        user.phone = parse.phone
    if for_self and not location.missing:
        await remember_home(ctx, user, location)
    if into is None:
        request = await requests.create(
            session=ctx.session,
            resident_id=_id(user),
            actor=msg.openid,
            data=data,
            **(planned.born(ctx.now) if routing else {}),
        )
    else:
        request = await requests.describe(
            session=ctx.session, request=into, data=data, actor=msg.openid
        )
    lines = []
    if emergency:
        lines.append(texts.emergency_advice(request.category, request.text or ""))
        await ctx.tell_admins(
            f"紧急求助！{texts.headline(request)}：{texts.need_text(request)}", about=request
        )
    lines.append(_understood(ctx, request, location))
    if routing:
        routed = await assignment.carry_out(ctx, request, place, planned, created=into is None)
        placed = location.place is not None
        lines.append(_routed_text(routed, placed=placed, emergency=emergency))
    if location.missing:
        asked: dict[str, Any] = {"number": request.id, "for_self": for_self}
        close: list[Place] = []
        if "compound" in location.missing:
            # 阳光花苑 for 阳光花园: offer the names it comes close to rather than ask blank.
            choices, near = await compound_choices(ctx, msg.text or "")
            close = choices if near else []
            asked["choices"] = [c.compound_id for c in close] or None
        await dialog.ask(ctx, user, RequestFlow.PLACE, asked)
        lines.append(
            choices_question(close, True) if close else _place_question(location.missing, for_self)
        )
    return "\n".join(lines)


async def _ask_the_need(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    """帮帮我 and nothing more: stored (so that silence still reaches a worker, see
    followups.left_open), asked what for, and routed once the resident says it."""
    location = await locate(ctx, user, parse, for_self=True)
    data = NewRequest(
        category="other",
        urgency="normal",
        text=msg.text or "",
        compound_id=location.place.compound_id if location.place else None,
        building=location.building,
        unit=location.unit,
        room=location.room,
    )
    request = await requests.create(
        session=ctx.session, resident_id=_id(user), actor=msg.openid, data=data
    )
    await dialog.ask(ctx, user, RequestFlow.NEED, {"number": request.id})
    return f"好的，您的求助编号 #{request.id}。{ASK_THE_NEED}"


async def _asked_about(ctx: Ctx, user: User, dialog_data: dict[str, Any]) -> HelpRequest | None:
    """The request a pending question is about; None (and no question any more) once it
    has been erased."""
    try:
        return await requests.get(session=ctx.session, number=int(dialog_data["number"]))
    except NotFound:
        await dialog.finish(ctx, user)
        return None


@router.state(RequestFlow.NEED)
async def need_answer(
    ctx: Ctx, msg: Inbound, parse: Parse | None, user: User, dialog_data: dict[str, Any]
) -> Any:
    request = await _asked_about(ctx, user, dialog_data)
    if request is None:
        return PASS
    if request.status != Status.OPEN or parse is None:
        if request.status != Status.OPEN:  # cancelled, or already with the workers
            await dialog.finish(ctx, user)
        return PASS
    text = (msg.text or "").strip()
    if (parse.intent == "request_help" and _plea_only(parse, text)) or any(
        word in text for word in CANNOT_SAY
    ):
        # Asked and still no need said: a person should call.
        await dialog.finish(ctx, user)
        await assignment.escalate(ctx, request, reason=UNSAID_NEED)
        return "好的，已请社区工作人员尽快联系您。情况紧急的话请直接拨打 120 或 110。"
    if parse.intent not in ("request_help", "unknown"):
        return PASS  # 进度, 你好, a command: done as always, the question still waits
    await dialog.finish(ctx, user)
    # What they answer is the need, whatever the parser made of it on its own (买菜).
    return await _take_request(ctx, msg, parse._replace(intent="request_help"), user, into=request)


@router.state(RequestFlow.PLACE)
async def place_answer(
    ctx: Ctx, msg: Inbound, parse: Parse | None, user: User, dialog_data: dict[str, Any]
) -> Any:
    request = await _asked_about(ctx, user, dialog_data)
    if request is None:
        return PASS
    text = (msg.text or "").strip()
    place = await picked_compound(ctx, text, dialog_data.get("choices"))
    building = unit = room = None
    if place is None:
        building, unit, room = answer_location(parse, text) if parse else (None, None, None)
        place = await compound_named(ctx, parse.compound if parse is not None else None)
        gives_up = any(word in text for word in DONT_KNOW)
        if building is None and place is None and not gives_up:
            if parse is not None and parse.intent == "request_help":
                # A new need instead of an answer: the waiting one goes out with what is known.
                await dialog.finish(ctx, user)
                if request.status == Status.OPEN:
                    await assignment.offer(ctx, request)
                return PASS
            if parse is None or parse.intent != "unknown":
                return PASS
            if await conversations.open_for(session=ctx.session, openid=msg.openid):
                return PASS  # not an answer: words for the volunteer of another request
    else:
        gives_up = False
    # What earlier answers gave (a building before the compound was picked, or the reverse).
    if place is None and dialog_data.get("compound_id"):
        place = await org.place_of(session=ctx.session, compound_id=dialog_data["compound_id"])
    building = building or dialog_data.get("building")
    unit, room = unit or dialog_data.get("unit"), room or dialog_data.get("room")
    if not gives_up:
        question = await _ask_again(ctx, user, request, dialog_data, text, place, building)
        if question is not None:
            return question
    await dialog.finish(ctx, user)
    if request.status not in (Status.OPEN, Status.OFFERED, Status.ESCALATED):
        return f"求助 #{request.id} 已经{texts.STATUS_WORDS.get(request.status, request.status)}。"
    location = Location(
        place=place or await assignment.place_of(ctx, request),
        building=building or request.building,
        unit=unit or request.unit,
        room=room or request.room,
    )
    if location.place is not None:
        request.compound_id = location.place.compound_id
    request.building, request.unit, request.room = location.building, location.unit, location.room
    ctx.session.add(request)
    await requests.add_event(session=ctx.session, request=request, actor=msg.openid, kind="located")
    if dialog_data.get("for_self"):
        await remember_home(ctx, user, location)
    if request.status == Status.OFFERED:
        return f"好的，已记下：{texts.place_text(_compound(location), request, private=True)}。"
    routed = await assignment.offer(ctx, request)
    told = _routed_text(routed, placed=location.place is not None)
    return f"好的，{texts.place_text(_compound(location), request, private=True)}。{told}"


async def _ask_again(
    ctx: Ctx,
    user: User,
    request: HelpRequest,
    dialog_data: dict[str, Any],
    text: str,
    place: Place | None,
    building: str | None,
) -> str | None:
    """The next question when the answer still leaves the compound or building unknown: the
    known compounds to pick from (never the same blank question twice), then the building."""
    kept = {**dialog_data, "choices": None, "building": building}
    if place is None and request.compound_id is None:
        choices, close = await compound_choices(ctx, text)
        if not choices:
            return None
        await dialog.ask(
            ctx, user, RequestFlow.PLACE, {**kept, "choices": [c.compound_id for c in choices]}
        )
        return choices_question(choices, close)
    if building is None and request.building is None:
        await dialog.ask(
            ctx, user, RequestFlow.PLACE, {**kept, "compound_id": place and place.compound_id}
        )
        named = f"好的，{place.compound}。" if place is not None else ""
        return f"{named}请问是几号楼？直接回复楼号就行，例如“3号楼”。不方便说的话，回复“不知道”。"
    return None


@router.text("check_status", command=("进度", "我的求助", "查进度"))
@router.event("click", key=menu.MY_REQUESTS)
async def progress(ctx: Ctx, user: User) -> str:
    # The newest few: a resident with many requests is not read whole on every 进度.
    mine = await requests.of_resident(
        session=ctx.session,
        resident_id=_id(user),
        statuses=(*ACTIVE, Status.DONE),
        limit=PROGRESS_LINES,
    )
    if not mine:
        return "您目前没有进行中的求助。需要帮忙时直接告诉我就行。"
    lines = ["您的求助："]
    for request in mine:
        line = texts.status_line(request, ctx.tz, ctx.local_now)
        if request.status == Status.ACCEPTED and request.volunteer_id is not None:
            volunteer = await volunteers.get(session=ctx.session, volunteer_id=request.volunteer_id)
            line += f" · {texts.volunteer_card(volunteer)}"
        lines.append(line)
    if any(r.status == Status.DONE for r in mine):
        lines.append("完成的求助请回复“评价 #编号 5分”（1-5分）。")
    return "\n".join(lines)


def _plea_only(parse: Parse, text: str) -> bool:
    """帮帮我, 谁能帮帮我啊: a plea that says nothing of what is needed, when, where or for
    whom. Routed as it is, it became a request of category 其他 that volunteers could not act
    on, and the need, written next, a second one."""
    if parse.urgency == "emergency" or parse.category not in (None, "other"):
        return False
    if parse.when or parse.where or parse.beneficiary or parse.compound or parse.phone:
        return False
    return bare_plea(text)


def bare_plea(text: str) -> bool:
    """Whether `text` is only a plea's words (帮帮我, 能帮我一下吗), no need in it."""
    return all(ch in PLEA_WORDS or not ch.isalnum() for ch in text)


def _understood(ctx: Ctx, request: HelpRequest, location: Location) -> str:
    who = (
        f"您为{texts.for_whom(request.beneficiary, whose='您')}发的"
        if request.beneficiary
        else "您的"
    )
    return (
        f"收到{who}求助，编号 #{request.id}（{texts.category_name(request.category)}）。\n"
        f"时间：{texts.when_text(request, ctx.tz, ctx.local_now)}；"
        f"地点：{texts.place_text(_compound(location), request, private=True)}"
    )


def _place_question(missing: list[str], for_self: bool) -> str:
    whose = "您家" if for_self else "需要帮助的人"
    if "compound" in missing:
        return f"请问{whose}在哪个小区、几号楼？例如“阳光花园3号楼”。"
    return f"请问{whose}住几号楼？直接回复楼号就行，例如“3号楼”。"


def _routed_text(routed: assignment.Routed, *, placed: bool, emergency: bool = False) -> str:
    """What really happened: volunteers are counted only when an offer reaches them now, and
    are the resident's own (本小区) only when the place is known (`placed`), not stood in
    for by assignment.fallback_place."""
    if routed.escalated or not routed.offered:
        if emergency:
            return "已通知社区值班人员，他们会尽快联系您。"
        return "正在联系社区工作人员为您安排志愿者，有进展会马上告诉您。"
    names = assignment.tier_names(placed)
    who = f"{names[routed.tier or 0]}的 {routed.offered} 位志愿者"
    if emergency:
        who = f"社区值班人员和{who}"
    return f"已通知{who}，有人接单会马上告诉您。"


def _compound(location: Location) -> str | None:
    return location.place.compound if location.place else None


def _id(user: User) -> int:
    assert user.id is not None
    return user.id
