"""Follow-ups that never get lost: what is due is read from each request's state and times.

There is no queue of follow-ups to lose. A sweep finds the requests for which a follow-up is
due and claims each with a guarded UPDATE of the very condition that made it due, in the same
transaction as its effect; so it fires once however many processes sweep, survives any crash
(an uncommitted claim rolls back), and never fires for a request that has moved on.

This module declares the follow-ups and what each does; their queries are storage/followups.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.context import Ctx, Notifier
from handlers import assignment, resident, texts
from storage import accounts, relevance, requests, scheduled, scope, users, volunteers
from storage.db import Database
from storage.followups import (
    Due,
    Timing,
    claim,
    close_due,
    due_numbers,
    left_open,
    offer_timed_out,
    overdue,
    reminder_due,
    score_due,
)
from storage.models import HelpRequest, Status
from storage.scope import Scope

logger = logging.getLogger(__name__)

Effect = Callable[[Ctx, HelpRequest], Awaitable[None]]
NEWS_FOR = timedelta(days=2)


@dataclass(frozen=True)
class FollowUp:
    """One kind of follow-up: when a request is due for it, how it is claimed, what it does."""

    name: str
    due: Due  # a WHERE clause over help_request
    marks: dict[str, Any]  # set by the claiming UPDATE, None standing for now: it fired
    effect: Effect


def timing(config: Config) -> Timing:
    """The configured time each stage of a request may take before a follow-up is due."""
    return Timing(
        offer_timeout=config.routing.offer_timeout,
        urgent_offer_timeout=config.routing.urgent_offer_timeout,
        reminder_before=config.followups.reminder_before,
        overdue_after=config.followups.overdue_after,
        satisfaction_delay=config.followups.satisfaction_delay,
        auto_close_after=config.followups.auto_close_after,
    )


async def _widen(ctx: Ctx, request: HelpRequest) -> None:
    await assignment.offer(ctx, request, from_tier=request.tier + 1)


async def _route_open(ctx: Ctx, request: HelpRequest) -> None:
    if request.category == "other" and resident.bare_plea(request.text or ""):
        # 帮帮我 and no answer to "what for?": a worker calls; volunteers could only guess.
        await assignment.escalate(ctx, request, reason=resident.UNSAID_NEED)
        return
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
        request_id=request.id,
        purpose=relevance.TASK,
    )


async def _check_in(ctx: Ctx, request: HelpRequest) -> None:
    if request.volunteer_id is None:
        return
    await ctx.notify(
        await volunteers.openid_of(session=ctx.session, volunteer_id=request.volunteer_id),
        f"{texts.headline(request)} 办完了吗？办完请回复“完成 #{request.id}”；"
        f"遇到困难去不了，请回复“放弃 #{request.id}”，我们另找人。",
        request_id=request.id,
        purpose=relevance.TASK,
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
    assert request.id is not None
    resident = await users.by_id(session=ctx.session, user_id=request.resident_id)
    people = [resident.openid]
    if request.volunteer_id is not None:
        people.append(
            await volunteers.openid_of(session=ctx.session, volunteer_id=request.volunteer_id)
        )
    # News of an ending is worth little when read weeks later, on the next visit.
    for openid in people:
        await ctx.notify(openid, texts.conversation_closed(request), expires_at=ctx.now + NEWS_FOR)


FOLLOW_UPS = (
    FollowUp("offer_timeout", offer_timed_out, {"offered_at": None}, _widen),
    FollowUp("left_open", left_open, {"offered_at": None}, _route_open),
    FollowUp("reminder", reminder_due, {"reminded_at": None}, _remind),
    FollowUp("check_in", overdue, {"checked_in_at": None}, _check_in),
    FollowUp("ask_score", score_due, {"asked_score_at": None}, _ask_score),
    FollowUp("auto_close", close_due, {"status": Status.CLOSED, "closed_at": None}, _close),
)


async def fire(ctx: Ctx, follow_up: FollowUp, number: int) -> bool:
    """Claim and run one follow-up of request #number; False when it is no longer due."""
    request = await claim(
        session=ctx.session,
        number=number,
        due=follow_up.due,
        timing=timing(ctx.config),
        now=ctx.now,
        marks=follow_up.marks,
    )
    if request is None:
        return False
    await follow_up.effect(ctx, request)
    logger.info("follow-up %s fired for #%d", follow_up.name, number)
    return True


async def sweep(db: Database, config: Config, now: datetime) -> int:
    """Fire every follow-up that is due, each in its own transaction; return how many messages
    were queued (so the caller can have them delivered)."""
    # One short read for every kind (the webhook's writes queue behind each transaction).
    when = timing(config)
    async with db.transaction() as session:
        work = [
            (f, await due_numbers(session=session, due=f.due, timing=when, now=now))
            for f in FOLLOW_UPS
        ]
    queued = 0
    for follow_up, numbers in work:
        for number in numbers:
            async with db.transaction() as session:
                notify = Notifier(session)
                await fire(Ctx(session, config, notify, now), follow_up, number)
            queued += notify.queued
    return queued


DIGEST_LISTS = 10  # requests the digest names in each list


async def digest(db: Database, config: Config, now: datetime) -> int:
    """The morning digest (once a day, whichever process claims it): the whole picture to the
    duty workers, and to each community's linked workers their community's."""
    local_day = now.astimezone(config.org.tz).date()
    async with db.transaction() as session:
        if not await scheduled.claim(session=session, key=f"digest:{local_day}"):
            return 0
        notify = Notifier(session)
        if config.admin.openids:
            text = await _digest_text(session, config, now, None)
            for openid in config.admin.openids:
                await notify(openid, text)
        linked = await accounts.linked_by_community(session=session)
        for community_id, openids in linked.items():
            readers = [o for o in openids if o not in config.admin.openids]
            if not readers:
                continue
            where = await scope.where_placed(
                session=session,
                scope=Scope(community_id=community_id),
                column=HelpRequest.compound_id,
            )
            text = await _digest_text(session, config, now, where)
            for openid in readers:
                await notify(openid, text)
    return notify.queued


async def _digest_text(
    session: AsyncSession, config: Config, now: datetime, where: requests.Condition
) -> str:
    local_day = now.astimezone(config.org.tz).date()
    counts = await requests.counts_by_status(session=session, where=where)
    late = await due_numbers(
        session=session, due=overdue, timing=timing(config), now=now, limit=1000, where=where
    )
    escalated = await requests.in_status(session=session, statuses=(Status.ESCALATED,), where=where)
    # Overdue tasks are among those in progress, and a worker needs their numbers to act.
    shown = "、".join(f"#{n}" for n in late[:DIGEST_LISTS])
    more = "等" if len(late) > DIGEST_LISTS else ""
    late_text = f"（其中超时未完成 {len(late)} 条：{shown}{more}）" if late else ""
    lines = [
        f"近邻互助早报（{local_day.month}月{local_day.day}日）",
        f"等待接单 {counts.get(Status.OPEN, 0) + counts.get(Status.OFFERED, 0)} 条，"
        f"社区协调中 {counts.get(Status.ESCALATED, 0)} 条，"
        f"进行中 {counts.get(Status.ACCEPTED, 0)} 条{late_text}。",
    ]
    lines += [
        f"待派单：{texts.headline(r)} {texts.need_text(r)[:30]}" for r in escalated[:DIGEST_LISTS]
    ]
    if len(escalated) > DIGEST_LISTS:
        lines.append(f"另有 {len(escalated) - DIGEST_LISTS} 条待派单未列出，请到社区工作台查看。")
    if escalated:
        lines.append("回复“派单 #编号 志愿者姓名”指派。")
    return "\n".join(lines)


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
