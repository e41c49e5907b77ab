"""Follow-ups that never get lost: what is due is read from each request's state and times.

There is no queue of follow-ups to lose. A sweep finds the requests for which a follow-up is
due and claims each with a guarded UPDATE of the very condition that made it due, in the same
transaction as its effect; so it fires once however many processes sweep, survives any crash
(an uncommitted claim rolls back), and never fires for a request that has moved on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlmodel import col

from bot.core.config import Config
from bot.core.context import Ctx, Notifier
from handlers import assignment, texts
from storage import requests, scheduled, users, volunteers
from storage.db import Database
from storage.models import HelpRequest, Status

logger = logging.getLogger(__name__)

Effect = Callable[[Ctx, HelpRequest], Awaitable[None]]
R = HelpRequest


@dataclass(frozen=True)
class FollowUp:
    """One kind of follow-up: when a request is due for it, how it is claimed, what it does."""

    name: str
    due: Callable[[Config, datetime], Any]  # a WHERE clause over help_request
    claim: dict[str, Any]  # values set by the claiming UPDATE (the mark that it fired)
    effect: Effect


def _timeout_passed(config: Config, now: datetime, since: Any) -> Any:
    normal = now - config.routing.offer_timeout
    urgent = now - config.routing.urgent_offer_timeout
    return or_(
        and_(col(R.urgency) == "normal", since <= normal),
        and_(col(R.urgency) != "normal", since <= urgent),
    )


def _offer_timed_out(config: Config, now: datetime) -> Any:
    return and_(col(R.status) == Status.OFFERED, _timeout_passed(config, now, col(R.offered_at)))


def _left_open(config: Config, now: datetime) -> Any:
    # Nobody was asked yet (the place question went unanswered): ask with what is known.
    return and_(
        col(R.status) == Status.OPEN,
        _timeout_passed(config, now, col(R.created_at)),
        or_(col(R.offered_at).is_(None), _timeout_passed(config, now, col(R.offered_at))),
    )


def _reminder_due(config: Config, now: datetime) -> Any:
    before = config.followups.reminder_before
    return and_(
        col(R.status) == Status.ACCEPTED,
        col(R.when_has_time),
        col(R.reminded_at).is_(None),
        col(R.when_at) <= now + before,
        col(R.when_at) > now,
    )


def _overdue(config: Config, now: datetime) -> Any:
    late = now - config.followups.overdue_after
    return and_(
        col(R.status) == Status.ACCEPTED,
        col(R.checked_in_at).is_(None),
        or_(
            and_(col(R.when_at).is_not(None), col(R.when_has_time), col(R.when_at) <= late),
            # A day without an hour is due by the end of that day.
            and_(
                col(R.when_at).is_not(None),
                ~col(R.when_has_time),
                col(R.when_at) <= late - timedelta(days=1),
            ),
            and_(col(R.when_at).is_(None), col(R.accepted_at) <= late),
        ),
    )


def _score_due(config: Config, now: datetime) -> Any:
    return and_(
        col(R.status) == Status.DONE,
        col(R.asked_score_at).is_(None),
        col(R.done_at) <= now - config.followups.satisfaction_delay,
    )


def _close_due(config: Config, now: datetime) -> Any:
    return and_(
        col(R.status) == Status.DONE, col(R.done_at) <= now - config.followups.auto_close_after
    )


async def _widen(ctx: Ctx, request: HelpRequest) -> None:
    await assignment.offer(ctx, request, from_tier=request.tier + 1)


async def _route_open(ctx: Ctx, request: HelpRequest) -> None:
    await assignment.offer(ctx, request)


async def _remind(ctx: Ctx, request: HelpRequest) -> None:
    before = ctx.config.followups.reminder_before
    accepted_late = (
        request.accepted_at is not None
        and request.when_at is not None
        and request.accepted_at >= request.when_at - before
    )
    # Accepted shortly before the time: the acceptance itself was the reminder.
    if request.volunteer_id is None or accepted_late:
        return
    place = await assignment.place_of(ctx, request)
    await ctx.notify(
        await volunteers.openid_of(session=ctx.session, volunteer_id=request.volunteer_id),
        f"提醒：{texts.headline(request)} 约在 {texts.when_text(request, ctx.tz, ctx.local_now)}，"
        f"地点 {texts.place_text(place.compound if place else None, request, private=True)}。"
        f"去不了请回复“放弃 #{request.id}”。",
    )


async def _check_in(ctx: Ctx, request: HelpRequest) -> None:
    if request.volunteer_id is None:
        return
    await ctx.notify(
        await volunteers.openid_of(session=ctx.session, volunteer_id=request.volunteer_id),
        f"{texts.headline(request)} 办完了吗？办完请回复“完成 #{request.id}”；"
        f"遇到困难去不了，请回复“放弃 #{request.id}”，我们另找人。",
    )


async def _ask_score(ctx: Ctx, request: HelpRequest) -> None:
    resident = await users.by_id(session=ctx.session, user_id=request.resident_id)
    await ctx.notify(
        resident.openid,
        f"您的求助 {texts.headline(request)} 已经办完了，您满意吗？"
        f"请回复 1-5 分，例如“评价 #{request.id} 5分”。",
    )


async def _close(ctx: Ctx, request: HelpRequest) -> None:
    await requests.add_event(
        session=ctx.session,
        request=request,
        actor="system",
        kind="auto_closed",
        from_status=Status.DONE,
        to_status=Status.CLOSED,
        note="没有评分，自动结束",
    )


FOLLOW_UPS = (
    FollowUp("offer_timeout", _offer_timed_out, {"offered_at": None}, _widen),
    FollowUp("left_open", _left_open, {"offered_at": None}, _route_open),
    FollowUp("reminder", _reminder_due, {"reminded_at": None}, _remind),
    FollowUp("check_in", _overdue, {"checked_in_at": None}, _check_in),
    FollowUp("ask_score", _score_due, {"asked_score_at": None}, _ask_score),
    FollowUp("auto_close", _close_due, {"status": Status.CLOSED, "closed_at": None}, _close),
)


async def due(ctx: Ctx, follow_up: FollowUp, limit: int = 100) -> list[int]:
    """The numbers of requests due for this follow-up."""
    rows = await ctx.session.scalars(
        select(col(R.id)).where(follow_up.due(ctx.config, ctx.now)).order_by(col(R.id)).limit(limit)
    )
    return [n for n in rows if n is not None]


async def fire(ctx: Ctx, follow_up: FollowUp, number: int) -> bool:
    """Claim and run one follow-up of request #number; False when it is no longer due."""
    # The claim's None values stand for "now": the mark that this follow-up has fired.
    values = {k: ctx.now if v is None else v for k, v in follow_up.claim.items()}
    claimed = await ctx.session.scalar(
        update(R)
        .where(col(R.id) == number, follow_up.due(ctx.config, ctx.now))
        .values(**values)
        .returning(col(R.id))
    )
    if claimed is None:
        return False
    request = await requests.get(session=ctx.session, number=number)
    await ctx.session.refresh(request)
    await follow_up.effect(ctx, request)
    logger.info("follow-up %s fired for #%d", follow_up.name, number)
    return True


async def sweep(db: Database, config: Config, now: datetime) -> int:
    """Fire every follow-up that is due, each in its own transaction; return how many messages
    were queued (so the caller can have them delivered)."""
    # One short read for every kind (the webhook's writes queue behind each transaction).
    async with db.transaction() as session:
        ctx = Ctx(session, config, Notifier(session), now)
        work = [(follow_up, await due(ctx, follow_up)) for follow_up in FOLLOW_UPS]
    queued = 0
    for follow_up, numbers in work:
        for number in numbers:
            async with db.transaction() as session:
                notify = Notifier(session)
                await fire(Ctx(session, config, notify, now), follow_up, number)
            queued += notify.queued
    return queued


async def digest(db: Database, config: Config, now: datetime) -> int:
    """The morning digest to admins (once a day, whichever process claims it)."""
    local_day = now.astimezone(config.org.tz).date()
    async with db.transaction() as session:
        if not await scheduled.claim(session=session, key=f"digest:{local_day}"):
            return 0
        notify = Notifier(session)
        ctx = Ctx(session, config, notify, now)
        counts = await requests.counts_by_status(session=session)
        overdue = await due(ctx, FOLLOW_UPS[3], limit=1000)
        escalated = await requests.in_status(session=session, statuses=(Status.ESCALATED,))
        lines = [
            f"近邻互助早报（{local_day:%m月%d日}）",
            f"等待接单 {counts.get(Status.OPEN, 0) + counts.get(Status.OFFERED, 0)} 条，"
            f"社区协调中 {counts.get(Status.ESCALATED, 0)} 条，进行中 {counts.get(Status.ACCEPTED, 0)} 条，"
            f"超时未完成 {len(overdue)} 条。",
        ]
        lines += [f"待派单：{texts.headline(r)} {texts.need_text(r)[:30]}" for r in escalated[:10]]
        if escalated:
            lines.append("回复“派单 #编号 志愿者姓名”指派。")
        await ctx.tell_admins("\n".join(lines))
    return notify.queued


async def purge(db: Database, config: Config, now: datetime) -> int:
    """Erase personal fields of requests that ended longer ago than the retention period
    (queues no message: returns 0)."""
    async with db.transaction() as session:
        if not await scheduled.claim(session=session, key=f"purge:{now:%Y-%m-%d}"):
            return 0
        ended = await requests.ended_before(session=session, before=now - config.privacy.retention)
        await requests.purge_personal(session=session, request_ids=ended)
    if ended:
        logger.info("purged personal fields of %d requests", len(ended))
    return 0
