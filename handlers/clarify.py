"""When unsure, ask: a message the parser is not sure of gets one yes/no question before
anything is done with it (a request made, a task taken or given back, a score given).

The question fits what the message seemed to want ("您是需要找人帮忙吗？回复“是”或“不是”" —
words, not digits, which would read as a score). 是 runs the handler that message would
have run, on the message itself; 不是 drops it with a word on what the bot can do; anything
else is read afresh as a new message. A message that may be an emergency is never asked
about (the parser marks it sure), nor are words inside an open conversation between a
volunteer and a resident (they are relayed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import Any

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import answers, cancelling, dialog, feedback, relay, resident, signup, volunteer
from nlp import Parse, Where
from storage import volunteers
from storage.models import User

router = Router("clarify")

Act = Callable[[Ctx, Inbound, Parse, User], Awaitable[Any]]


class Clarify(Enum):
    """An unsure message waits for 是 or 不是: CONFIRM → (its handler) or (dropped)."""

    CONFIRM = "confirm"


# What each intent's question asks, what its handler is, and what 不是 says back.
QUESTIONS: dict[str, str] = {
    "request_help": "您是需要找人帮忙吗？",
    "cancel_request": "您是要取消求助吗？",
    "accept_task": "您是要接下这个任务吗？",
    "decline_task": "您是要放弃这个任务吗？",
    "complete_task": "您是说任务已经完成了吗？",
    "rate_service": "您是在给这次帮忙打分吗？",
    "volunteer_signup": "您是想报名当志愿者吗？",
}
ACTS: dict[str, Act] = {
    "request_help": resident.ask_for_help,
    "cancel_request": cancelling.cancel,
    "accept_task": volunteer.accept,
    "decline_task": volunteer.decline,
    "complete_task": volunteer.complete,
    "rate_service": feedback.rate,
    "volunteer_signup": signup.start,
}
NOT_MEANT: dict[str, str] = {
    "request_help": "好的，这条先不发求助。",
    "cancel_request": "好的，求助不取消。",
    "accept_task": "好的，这个任务先不接。",
    "decline_task": "好的，任务还是由您负责。",
    "complete_task": "好的，任务还没完成的话，做完后回复“完成”就行。",
    "rate_service": "好的，先不评价。",
    "volunteer_signup": "好的，先不报名。",
}
ANSWER_HINT = "回复“是”或“不是”。"
CAN_DO = "需要帮忙就直接说说是什么事、什么时间、在哪里；发送“帮助”看看我能做什么。"
# Only a volunteer's message can take, give back or finish a task.
FOR_VOLUNTEERS = frozenset({"accept_task", "decline_task", "complete_task"})
# Yes and no as residents type them: Mandarin, Cantonese, Minnan, and by voice.
YES = (
    "是", "是的", "是啊", "是呀", "对", "对的", "对啊", "对呀", "嗯", "嗯嗯", "好", "好的", "好啊",
    "要", "需要", "没错", "係", "系", "係呀", "系呀", "係啊", "系啊", "啱", "着", "著", "是嘞",
    "yes", "ok",
)  # fmt: skip
NO = answers.NO


@router.text(*QUESTIONS)
async def ask_first(ctx: Ctx, msg: Inbound, parse: Parse | None, user: User) -> Any:
    """An unsure reading of a message with an effect: one short question before acting."""
    if parse is None or parse.sure or parse.urgency == "emergency":
        return PASS
    if parse.intent in FOR_VOLUNTEERS and not await volunteers.find(
        session=ctx.session, user_id=user.id
    ):
        return PASS  # their handler is a volunteer's: nothing would be done to confirm
    if await relay.talks_of(ctx, msg.openid):
        return PASS  # words between helper and helped are relayed, not questioned
    await dialog.ask(ctx, user, Clarify.CONFIRM, {"text": msg.text, "parse": _kept(parse)})
    return f"{_question(parse)}{ANSWER_HINT}"


@router.state(Clarify.CONFIRM, answers=YES + NO)
async def answer(ctx: Ctx, msg: Inbound, user: User, dialog_data: dict[str, Any]) -> Any:
    """是: done as the message first asked; 不是: dropped; anything else: read afresh."""
    await dialog.finish(ctx, user)
    word = answers.word(msg.text)
    parse = _restored(dialog_data["parse"])
    if word in NO:
        return f"{NOT_MEANT[parse.intent]}{CAN_DO}"
    if word not in YES:
        return PASS
    first = replace(msg, text=str(dialog_data["text"]))
    return await ACTS[parse.intent](ctx, first, parse, user)


def _question(parse: Parse) -> str:
    if parse.task_ref and parse.intent in FOR_VOLUNTEERS:
        return QUESTIONS[parse.intent].replace("这个任务", f"任务 #{parse.task_ref}")
    return QUESTIONS[parse.intent]


def _kept(parse: Parse) -> dict[str, Any]:
    """The parse as the pending question stores it (JSON)."""
    data = parse._asdict()
    data["where"] = parse.where.to_contract() if parse.where else None
    data["when_at"] = parse.when_at.isoformat() if parse.when_at else None
    data["skills"] = list(parse.skills)
    return data


def _restored(data: dict[str, Any]) -> Parse:
    """The stored parse, now confirmed."""
    where, when_at = data.get("where"), data.get("when_at")
    return Parse(
        **{
            **data,
            "where": Where(**where) if where else None,
            "when_at": datetime.fromisoformat(when_at) if when_at else None,
            "skills": tuple(data.get("skills", ())),
            "sure": True,
        }
    )
