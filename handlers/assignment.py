"""Matching a request to volunteers: offers in widening circles, one winner, escalation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.core.context import Ctx
from handlers import texts
from storage import offers, org, reach, relevance, requests, users, volunteers
from storage.errors import Conflict, Forbidden
from storage.models import HelpRequest, Status, User, Volunteer
from storage.org import Place

logger = logging.getLogger(__name__)

TIER_NAMES = ("本小区", "本社区", "本街道")
OFFER_NEWS_FOR = timedelta(days=1)


@dataclass(frozen=True)
class Routed:
    """How a routing attempt ended."""

    offered: int  # volunteers an offer reaches now (the only ones a resident is told of)
    tier: int | None
    escalated: bool
    parked: int = 0  # offers waiting for volunteers a message cannot reach now


async def place_of(ctx: Ctx, request: HelpRequest) -> Place | None:
    """The request's compound with its community and street."""
    if request.compound_id is None:
        return None
    return await org.place_of(session=ctx.session, compound_id=request.compound_id)


async def reachable_now(ctx: Ctx, people: list[User]) -> set[str]:
    """The openids among `people` a message queued now reaches soon (storage/reach.py)."""
    return await reach.reachable(
        session=ctx.session,
        people=people,
        now=ctx.now,
        template=bool(ctx.config.wechat.template_id),
    )


async def offer(ctx: Ctx, request: HelpRequest, *, from_tier: int = 0) -> Routed:
    """Offer the request to the best few volunteers a message reaches now, of the nearest tier
    (at or beyond `from_tier`) that has any; with nobody reachable in any tier, escalate to
    the community's admins at once. Volunteers out of reach get offers only to fill the batch,
    waiting for them to write, and are never counted as notified."""
    assert request.id is not None
    place = await place_of(ctx, request) or await _fallback_place(ctx)
    if place is None:
        return await escalate(ctx, request, reason="没有可用的小区信息")
    at = texts.local(request.when_at, ctx.tz) if request.when_at else ctx.local_now
    found = await volunteers.candidates(
        session=ctx.session,
        category=request.category,
        place=place,
        building=request.building,
        local_at=at,
        has_time=request.when_has_time or request.when_at is None,
        exclude=await offers.not_to_ask(session=ctx.session, request_id=request.id),
    )
    found = [c for c in found if c.tier >= from_tier]
    reached = await reachable_now(ctx, [c.user for c in found])
    batch = ctx.config.routing.offer_batch
    near = [c for c in found if c.user.openid in reached]
    if not near:
        # Nobody can be told now: the workers are asked at once rather than after the offer
        # timeout; the nearest few still get an offer to find when they next write.
        await escalate(
            ctx,
            request,
            reason="附近的志愿者暂时都收不到消息" if found else "附近暂时没有能接的志愿者",
        )
        parked = [c.volunteer for c in found if c.tier == found[0].tier][:batch] if found else []
        await _send_offers(ctx, request, place, [], parked, found[0].tier if found else 0)
        return Routed(offered=0, tier=None, escalated=True, parked=len(parked))
    tier = near[0].tier
    chosen = [c.volunteer for c in near if c.tier == tier][:batch]
    parked = [c.volunteer for c in found if c.user.openid not in reached and c.tier <= tier]
    parked = parked[: batch - len(chosen)]
    await _send_offers(ctx, request, place, chosen, parked, tier)
    return Routed(offered=len(chosen), tier=tier, escalated=False, parked=len(parked))


async def _send_offers(
    ctx: Ctx,
    request: HelpRequest,
    place: Place,
    chosen: list[Volunteer],
    parked: list[Volunteer],
    tier: int,
) -> None:
    """Record and queue the offers: to `chosen` now, to `parked` when they next write."""
    assert request.id is not None
    everyone = chosen + parked
    if not everyone:
        return
    await offers.record(
        session=ctx.session,
        request_id=request.id,
        volunteer_ids=[v.id for v in everyone if v.id is not None],
        tier=tier,
    )
    parts = [f"{TIER_NAMES[tier]} {len(chosen)} 位志愿者"] if chosen else []
    if parked:
        parts.append(f"{len(parked)} 位暂时收不到消息的志愿者（等对方来消息时送达）")
    note = "；".join(parts)
    if chosen and (request.status != Status.OFFERED or request.tier != tier):
        await requests.transition(
            session=ctx.session,
            request=request,
            allowed=(Status.OPEN, Status.OFFERED, Status.ESCALATED),
            to=Status.OFFERED,
            actor="system",
            kind="offered",
            note=note,
            tier=tier,
            offered_at=ctx.now,
        )
    else:
        await requests.add_event(
            session=ctx.session, request=request, actor="system", kind="offered", note=note
        )
    message = texts.offer(request, place.compound, ctx.tz, ctx.local_now)
    # An offer read days later, when the volunteer next opens the account, would only confuse.
    stale_after = ctx.now + OFFER_NEWS_FOR
    if request.when_at is not None and request.when_at < stale_after:
        stale_after = max(request.when_at, ctx.now + ctx.config.routing.offer_timeout)
    for volunteer in everyone:
        assert volunteer.id is not None
        await ctx.notify(
            await volunteers.openid_of(session=ctx.session, volunteer_id=volunteer.id),
            message,
            expires_at=stale_after,
            request_id=request.id,
            purpose=relevance.OFFER,
        )


async def _fallback_place(ctx: Ctx) -> Place | None:
    # A request whose compound is unknown (an emergency asked before the place was given)
    # still reaches volunteers: the first compound of the configured community stands in.
    known = await org.places(session=ctx.session)
    return known[0] if known else None


async def escalate(ctx: Ctx, request: HelpRequest, *, reason: str) -> Routed:
    """Hand the request to the community's admins (社区吹哨), once."""
    if request.status != Status.ESCALATED:
        await requests.transition(
            session=ctx.session,
            request=request,
            allowed=(Status.OPEN, Status.OFFERED),
            to=Status.ESCALATED,
            actor="system",
            kind="escalated",
            note=reason,
        )
        place = await place_of(ctx, request)
        await ctx.tell_admins(
            f"社区吹哨：{texts.headline(request)} {reason}。\n"
            f"地点：{texts.place_text(place.compound if place else None, request, private=False)}\n"
            f"时间：{texts.when_text(request, ctx.tz, ctx.local_now)}\n"
            f"需要：{texts.need_text(request)}\n"
            f"请回复“派单 #{request.id} 志愿者姓名”指派。",
            about=request,
            request_id=request.id,
            purpose=relevance.ESCALATION,
        )
    return Routed(offered=0, tier=None, escalated=True)


async def accept(
    ctx: Ctx, request: HelpRequest, volunteer: Volunteer, *, actor: str, kind: str = "accepted"
) -> str:
    """Give the request to `volunteer` if nobody has it yet (Conflict otherwise); tell the
    resident and the other offered volunteers; return the task's full details."""
    assert request.id is not None and volunteer.id is not None
    await requests.transition(
        session=ctx.session,
        request=request,
        allowed=(Status.OPEN, Status.OFFERED, Status.ESCALATED),
        to=Status.ACCEPTED,
        actor=actor,
        kind=kind,
        note=volunteer.name,
        volunteer_id=volunteer.id,
        accepted_at=ctx.now,
        reminded_at=None,
        checked_in_at=None,
    )
    await offers.end(
        session=ctx.session, request_id=request.id, outcome="accepted", volunteer_id=volunteer.id
    )
    taken = await offers.end(session=ctx.session, request_id=request.id, outcome="taken")
    for other in taken:
        await ctx.notify(
            await volunteers.openid_of(session=ctx.session, volunteer_id=other),
            f"#{request.id} 已由其他志愿者接单，谢谢您！",
            request_id=request.id,
            purpose=relevance.OFFER_NEWS,
        )
    await volunteers.mark_tasked(session=ctx.session, volunteer_id=volunteer.id, at=ctx.now)
    resident = await users.by_id(session=ctx.session, user_id=request.resident_id)
    await ctx.notify(
        resident.openid,
        f"好消息！您的求助 {texts.headline(request)} 已有{texts.volunteer_card(volunteer)}接单，"
        "会尽快和您联系。想对志愿者说什么，直接在这里回复，我会转给对方。",
    )
    place = await place_of(ctx, request)
    phone = request.phone or resident.phone
    return texts.task_details(
        request, place.compound if place else None, phone, ctx.tz, ctx.local_now
    )


async def _leave_own_task(
    ctx: Ctx,
    request: HelpRequest,
    volunteer: Volunteer,
    to: str,
    kind: str,
    actor: str,
    **values: Any,
) -> None:
    # Only the volunteer who holds the task may finish it or give it back.
    if request.volunteer_id != volunteer.id:
        raise Forbidden(f"#{request.id} is not volunteer {volunteer.id}'s task")
    await requests.transition(
        session=ctx.session,
        request=request,
        allowed=(Status.ACCEPTED,),
        to=to,
        actor=actor,
        kind=kind,
        note=volunteer.name,
        **values,
    )


async def complete(
    ctx: Ctx, request: HelpRequest, volunteer: Volunteer, *, actor: str, minutes: int
) -> None:
    """The task is done: credit the volunteer's hours and ask the resident how it went."""
    assert volunteer.id is not None
    await _leave_own_task(
        ctx,
        request,
        volunteer,
        Status.DONE,
        "done",
        actor,
        done_at=ctx.now,
        credited_minutes=minutes,
    )
    await volunteers.credit(session=ctx.session, volunteer_id=volunteer.id, minutes=minutes)
    resident = await users.by_id(session=ctx.session, user_id=request.resident_id)
    await ctx.notify(
        resident.openid,
        f"志愿者{volunteer.name}已完成您的求助 {texts.headline(request)}。"
        f"满意吗？请回复“评价 #{request.id} 5分”（1-5分），您的评分很重要。",
    )


async def release(ctx: Ctx, request: HelpRequest, volunteer: Volunteer, *, actor: str) -> Routed:
    """The accepting volunteer gives the task back: it is offered again to others."""
    assert request.id is not None and volunteer.id is not None
    await _leave_own_task(
        ctx, request, volunteer, Status.OPEN, "released", actor, volunteer_id=None, accepted_at=None
    )
    await offers.mark(
        session=ctx.session, request_id=request.id, volunteer_id=volunteer.id, outcome="declined"
    )
    resident = await users.by_id(session=ctx.session, user_id=request.resident_id)
    await ctx.notify(
        resident.openid,
        f"您的求助 {texts.headline(request)} 原来的志愿者临时去不了，我们正在为您另找志愿者。",
    )
    return await offer(ctx, request, from_tier=0)


async def decline_offer(
    ctx: Ctx, request: HelpRequest, volunteer: Volunteer, *, actor: str
) -> Routed | None:
    """A volunteer turns an offer down; when nobody offered is left, the next ones are asked."""
    assert request.id is not None and volunteer.id is not None
    ended = await offers.end(
        session=ctx.session, request_id=request.id, outcome="declined", volunteer_id=volunteer.id
    )
    if not ended:
        raise Conflict(f"no open offer of #{request.id} for {volunteer.id}")
    await requests.add_event(
        session=ctx.session, request=request, actor=actor, kind="declined", note=volunteer.name
    )
    if request.status == Status.OFFERED and not await offers.open_for(
        session=ctx.session, request_id=request.id
    ):
        return await offer(ctx, request, from_tier=request.tier)
    return None
