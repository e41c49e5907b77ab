"""取消: a resident calls off a request; an emergency named by no number is asked about once
first, so that a 取消 typed by mistake does not call off help on its way."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import Any

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import answers, dialog, texts
from nlp import Parse
from storage import offers, relevance, requests, users, volunteers
from storage.errors import Conflict, NotFound
from storage.models import HelpRequest, Status, User
from storage.requests import ACTIVE

router = Router("cancelling")

RECENTLY_CANCELLED = timedelta(hours=1)  # 取消 again this soon after is a change of mind
# Yes to "确定取消吗？": plain agreement, or 取消 said again; anything else keeps the help coming.
CONFIRM_WORDS = answers.AGREE | {"确认取消", "确定取消", "取消", "取消吧"}
KEEP_WORDS = (*answers.NO, "不取消", "不要取消", "别取消", "先不取消", "不取消了")


class Cancelling(Enum):
    """An emergency's bare 取消 asks once: CONFIRM → (cancelled) or (kept)."""

    CONFIRM = "confirm"


@router.text("cancel_request", command=("取消",))
async def cancel(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    pending = users.dialog(user, ctx.now)
    if pending is not None and not parse.task_ref:
        mine = await requests.of_resident(session=ctx.session, resident_id=_id(user))
        if not mine:  # 取消 in the middle of a question, with no request: the question goes
            await dialog.finish(ctx, user)
            return "好的，刚才的问题不用回答了。需要帮忙随时告诉我。"
    chosen = await _own_request(ctx, user, parse, ACTIVE)
    if isinstance(chosen, str):
        return chosen
    if chosen.urgency == "emergency" and not parse.task_ref:
        # The question 取消 interrupted (the emergency's place, say) is asked again after.
        await dialog.ask(ctx, user, Cancelling.CONFIRM, {"number": chosen.id, "then": pending})
        return (
            f"求助 #{chosen.id} 是紧急求助，取消后就没有人赶来帮忙了。\n"
            "真的要取消，请回复“确认取消”；不取消就回复“不”，帮助照常进行。"
        )
    return await _cancelled(ctx, chosen, actor=msg.openid)


@router.state(Cancelling.CONFIRM, answers=("取消", "取消吧"))
async def confirm_cancel(ctx: Ctx, msg: Inbound, user: User, dialog_data: dict[str, Any]) -> object:
    then = dialog_data.get("then")
    if then:
        await dialog.restore(ctx, user, tuple(then))
    else:
        await dialog.finish(ctx, user)
    word = answers.word(msg.text)
    number = int(dialog_data["number"])
    if word in KEEP_WORDS:
        return f"好的，求助 #{number} 不取消，帮助照常进行。"
    if word not in CONFIRM_WORDS:
        return PASS
    try:
        request = await requests.get(session=ctx.session, number=number)
    except NotFound:  # erased meanwhile: nothing left to cancel
        return PASS
    return await _cancelled(ctx, request, actor=msg.openid)


async def _cancelled(ctx: Ctx, chosen: HelpRequest, *, actor: str) -> str:
    """Cancel `chosen` and tell its volunteers; what the resident is told."""
    try:
        await _call_off(ctx, chosen, actor=actor)
    except Conflict:
        return f"求助 #{chosen.id} 已经{texts.STATUS_WORDS.get(chosen.status, chosen.status)}，无需取消。"
    closed = f"\n{texts.conversation_closed(chosen)}" if chosen.volunteer_id is not None else ""
    return f"好的，求助 #{chosen.id} 已取消。以后需要帮忙随时告诉我。{closed}"


async def cancel_all(ctx: Ctx, user: User, *, actor: str) -> None:
    """Cancel every active request of the user (before their data is erased)."""
    for request in await requests.of_resident(session=ctx.session, resident_id=_id(user)):
        await _call_off(ctx, request, actor=actor, note="居民删除了个人信息")


async def _call_off(ctx: Ctx, request: HelpRequest, *, actor: str, note: str | None = None) -> None:
    """Cancel an active request and tell its volunteers (Conflict when no longer active)."""
    await requests.transition(
        session=ctx.session,
        request=request,
        allowed=ACTIVE,
        to=Status.CANCELLED,
        actor=actor,
        kind="cancelled",
        note=note,
        closed_at=ctx.now,
    )
    await _tell_volunteers_cancelled(ctx, request)


async def _tell_volunteers_cancelled(ctx: Ctx, request: HelpRequest) -> None:
    assert request.id is not None
    told = await offers.end(session=ctx.session, request_id=request.id, outcome="closed")
    # The volunteer who accepted always hears of it, and their conversation with the resident
    # ends; the ones only offered hear of it only if the offer reached them.
    for volunteer_id in dict.fromkeys(told):
        await ctx.notify(
            await volunteers.openid_of(session=ctx.session, volunteer_id=volunteer_id),
            f"居民已取消求助 #{request.id}，不用去了，谢谢您！",
            request_id=request.id,
            purpose=relevance.OFFER_NEWS,
        )
    if request.volunteer_id is not None:
        await ctx.notify(
            await volunteers.openid_of(session=ctx.session, volunteer_id=request.volunteer_id),
            f"居民已取消求助 #{request.id}，不用去了，谢谢您！\n"
            + texts.conversation_closed(request),
        )


async def _own_request(
    ctx: Ctx, user: User, parse: Parse, statuses: tuple[str, ...]
) -> HelpRequest | str:
    """The sender's request the message names, or the only one in `statuses`; else a question."""
    mine = await requests.of_resident(session=ctx.session, resident_id=_id(user), statuses=statuses)
    if parse.task_ref:
        number = int(parse.task_ref)
        for request in mine:
            if request.id == number:
                return request
        return f"没有找到您的求助 #{number}。回复“进度”看看您的求助。"
    if not mine:
        return await _nothing_to_cancel(ctx, user)
    return texts.only_one(mine, none="", several="您有几条求助", example="取消 #{n}")


async def _nothing_to_cancel(ctx: Ctx, user: User) -> str:
    """取消 with nothing active: someone changing their mind right after cancelling (算了还是
    不取消了) is told how to get help again, not just that nothing is open."""
    last = await requests.of_resident(
        session=ctx.session, resident_id=_id(user), statuses=(Status.CANCELLED,), limit=1
    )
    if last and last[0].closed_at and last[0].closed_at >= ctx.now - RECENTLY_CANCELLED:
        return (
            f"求助 #{last[0].id} 已经取消了。还需要帮忙的话，直接再说一次您的需要，"
            "我马上重新为您安排。"
        )
    return "您目前没有进行中的求助，不用取消。需要帮忙时直接告诉我就行。"


def _id(user: User) -> int:
    assert user.id is not None
    return user.id
