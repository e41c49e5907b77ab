"""Relay: once a task is accepted, its volunteer and the resident talk through the account.

A message from either side that is neither a command, nor an answer to a pending question,
nor a new need goes to the other side, marked with the request's number and the sender's
role and name ("#12 志愿者王阿姨：我下午四点到"), without either seeing the other's WeChat. Each
is an event in the request's history, purged and erased with its other personal fields.

Phone numbers: the volunteer who accepted may see the resident's (as the task's details show
it); the resident may see the volunteer's, which volunteers leave at sign-up to be told to
the residents they help. So a relayed message passes as written, and when it cannot reach the
other side now, the sender is given the other side's number if there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import assignment, dialog, texts
from nlp import Parse
from storage import conversations, offers, org, requests, users, volunteers
from storage.models import HelpRequest, User, Volunteer

router = Router("relay")


class RelayFlow(Enum):
    """Several conversations and no number in the message: WHICH → (relayed)."""

    WHICH = "which"


# How chat between two people reads to the parser: 我到楼下了 (unknown), 阿姨好, 谢谢你.
CHAT = ("unknown", "greeting", "thanks")
# Volunteer-side intents read from a resident's sentence (我明天不在家，改后天吧).
VOLUNTEER_SIDE = ("accept_task", "decline_task", "complete_task")
RESIDENT_UNNAMED = "求助居民"
_NUMBERED = re.compile(r"^\s*[#＃]\s*(\d+)\s*[:：,，.。]?\s*")
_BARE_NUMBER = re.compile(r"^\s*[#＃]?\s*(\d+)\s*号?\s*$")
_ADDRESSED = re.compile("[你您]")  # 你到哪了 asks the other person, not the account


@dataclass(frozen=True)
class Talk:
    """One conversation as seen by the sender of a message."""

    request: HelpRequest
    volunteer: Volunteer
    helper: User  # the volunteer's user
    resident: User
    as_volunteer: bool  # the sender is the volunteer

    @property
    def number(self) -> int:
        assert self.request.id is not None
        return self.request.id

    @property
    def other(self) -> User:
        return self.resident if self.as_volunteer else self.helper

    def label(self, *, sender: bool) -> str:
        """How the sender (or the other side) is named: 志愿者王阿姨, 居民陈先生."""
        if self.as_volunteer == sender:
            return f"志愿者{self.volunteer.name}"
        return f"居民{self.resident.name}" if self.resident.name else RESIDENT_UNNAMED

    @property
    def other_phone(self) -> str | None:
        if self.as_volunteer:
            return self.request.phone or self.resident.phone
        return self.volunteer.phone


async def talks_of(ctx: Ctx, openid: str) -> list[Talk]:
    """The open conversations `openid` takes part in, oldest first."""
    found = []
    for request in await conversations.open_for(session=ctx.session, openid=openid):
        assert request.volunteer_id is not None
        volunteer = await volunteers.get(session=ctx.session, volunteer_id=request.volunteer_id)
        helper = await users.by_id(session=ctx.session, user_id=volunteer.user_id)
        resident = await users.by_id(session=ctx.session, user_id=request.resident_id)
        found.append(Talk(request, volunteer, helper, resident, helper.openid == openid))
    return found


async def forward(ctx: Ctx, msg: Inbound, talk: Talk, text: str) -> str:
    """Send `text` to the other side of `talk`, record it, and say what became of it."""
    other = talk.other
    reached = await assignment.reachable_now(ctx, [other])
    await ctx.notify(other.openid, f"#{talk.number} {talk.label(sender=True)}：{text}")
    await requests.add_event(
        session=ctx.session, request=talk.request, actor=msg.openid, kind="relayed", note=text
    )
    who = talk.label(sender=False)
    if other.openid in reached:
        return f"已转给{who}（#{talk.number}）。"
    phone = talk.other_phone
    call = f"着急的话请直接打电话：{phone}。" if phone else ""
    return (
        f"{who}现在收不到公众号的消息（微信只在对方发消息后的 48 小时内转达），"
        f"这条消息会在对方下次给公众号发消息时转过去。{call}"
    )


@router.text(*CHAT, "check_status", "request_help", *VOLUNTEER_SIDE)
async def talk(ctx: Ctx, msg: Inbound, parse: Parse | None) -> Any:
    text = (msg.text or "").strip()
    if parse is None or not text or not await _may_be_talk(ctx, parse, text, msg.openid):
        return PASS
    talks = await talks_of(ctx, msg.openid)
    if not talks or _new_need(ctx, parse, talks):
        return PASS
    if parse.urgency == "emergency":
        return await _emergency(ctx, msg, parse, talks, text)
    chosen = _addressed(parse, text, talks)
    if isinstance(chosen, str):
        return chosen
    if chosen is None:
        numbers = [t.number for t in talks]
        sender = talks[0].helper if talks[0].as_volunteer else talks[0].resident
        await dialog.ask(ctx, sender, RelayFlow.WHICH, {"text": text, "numbers": numbers})
        # Two tasks for residents nobody named read alike: what and when tell them apart.
        options = "\n".join(
            f"{texts.headline(t.request)} · {texts.when_text(t.request, ctx.tz, ctx.local_now)}"
            f"（{t.label(sender=False)}）"
            for t in talks[:5]
        )
        return (
            f"您有几件正在进行的事：\n{options}\n"
            f"这条消息要转给谁？回复编号就行，例如“{numbers[0]}”。"
        )
    found, words = chosen
    if not words:
        return f"请在编号后面写上要转给对方的话，例如“#{found.number} 我到楼下了”。"
    receipt = await forward(ctx, msg, found, words)
    return receipt + _maybe_a_new_need(parse, found)


@router.state(RelayFlow.WHICH)
async def which_answer(ctx: Ctx, msg: Inbound, user: User, dialog_data: dict[str, Any]) -> Any:
    bare = _BARE_NUMBER.match(msg.text or "")
    await dialog.finish(ctx, user)
    if bare is None or int(bare[1]) not in dialog_data.get("numbers", ()):
        return PASS  # not an answer: the question is dropped and the message read afresh
    number = int(bare[1])
    found = next((t for t in await talks_of(ctx, msg.openid) if t.number == number), None)
    if found is None:
        return f"求助 #{number} 已经结束，消息没有转出。"
    return await forward(ctx, msg, found, str(dialog_data["text"]))


async def _may_be_talk(ctx: Ctx, parse: Parse, text: str, openid: str) -> bool:
    if parse.intent == "check_status":
        return _ADDRESSED.search(text) is not None
    if parse.intent in VOLUNTEER_SIDE:
        # A volunteer's 办完了 about a task or offer they hold stays a command; a resident's,
        # or one said after the task is done (菜放门口了), is words for the other side. Taking
        # a task needs an offer to take: 我下午四点送过去 about a task already held is words.
        user = await users.get(session=ctx.session, openid=openid)
        volunteer = await volunteers.find(session=ctx.session, user_id=user.id)
        if volunteer is None or volunteer.id is None:
            return True
        if await offers.waiting_for(session=ctx.session, volunteer_id=volunteer.id):
            return False
        if parse.intent == "accept_task":
            return True
        return not await requests.of_volunteer(session=ctx.session, volunteer_id=volunteer.id)
    return True


def _new_need(ctx: Ctx, parse: Parse, talks: list[Talk]) -> bool:
    """Whether the message clearly asks for something besides every open conversation's task:
    a plea about a need of another kind, or of the same kind on another day."""
    if parse.intent != "request_help" or parse.urgency == "emergency" or not parse.plea:
        return False
    if parse.category in (None, "other"):
        return False  # 你能早点来吗: a plea to the helper, about nothing new
    return all(
        parse.category != t.request.category or _another_day(ctx, parse, t.request) for t in talks
    )


def _another_day(ctx: Ctx, parse: Parse, request: HelpRequest) -> bool:
    if parse.when_at is None or request.when_at is None:
        return False
    return parse.when_at.date() != texts.local(request.when_at, ctx.tz).date()


def _addressed(parse: Parse, text: str, talks: list[Talk]) -> tuple[Talk, str] | str | None:
    """The conversation the message is for and its words; what to say when the number it
    names is none of them; None when it could be any of several."""
    numbered = _NUMBERED.match(text)
    number = int(numbered[1]) if numbered else int(parse.task_ref) if parse.task_ref else None
    if number is not None:
        found = next((t for t in talks if t.number == number), None)
        if found is not None:
            return found, text[numbered.end() :] if numbered else text
        if numbered:
            known = "、".join(f"#{t.number}" for t in talks)
            return f"#{number} 不是您正在进行的求助或任务，消息没有转出。正在进行的：{known}。"
    return (talks[0], text) if len(talks) == 1 else None


def _maybe_a_new_need(parse: Parse, talk: Talk) -> str:
    # 我家水管漏水了 in a conversation about groceries: relayed, and the way to ask is shown.
    category = parse.category
    if parse.intent == "request_help" and category not in (None, "other", talk.request.category):
        return "\n如果这是另一件要找人帮忙的事，请说“帮我……”，我再为您找志愿者。"
    return ""


async def _emergency(ctx: Ctx, msg: Inbound, parse: Parse, talks: list[Talk], text: str) -> str:
    """Relayed, and handled as an emergency: what to do now, and the duty workers alerted."""
    chosen = _addressed(parse, text, talks)
    targets = [chosen[0]] if isinstance(chosen, tuple) else talks
    receipts = []
    for found in targets:
        receipts.append(await forward(ctx, msg, found, text))
        place = await org.place_of(session=ctx.session, compound_id=found.request.compound_id or 0)
        where = texts.place_text(place.compound if place else None, found.request, private=True)
        await ctx.tell_admins(
            f"紧急！{texts.headline(found.request)}（{where}）"
            f"{found.label(sender=True)}在对话中说：{text}",
            about=found.request,
        )
        await requests.add_event(
            session=ctx.session, request=found.request, actor=msg.openid, kind="emergency"
        )
    advice = texts.emergency_advice(parse.category or "other", text)
    return f"{advice}已通知社区值班人员。\n" + "\n".join(receipts)
