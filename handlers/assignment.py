"""Matching a request to volunteers: offers in widening circles, one winner, escalation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.context import Ctx
from handlers import texts
from storage import offers, org, reach, relevance, requests, users, volunteers
from storage.errors import Conflict, Forbidden
from storage.models import HelpRequest, Status, Volunteer
from storage.org import Place
from storage.volunteers import Candidate

logger = logging.getLogger(__name__)

TIER_NAMES = ("本小区", "本社区", "本街道")
# The tiers of a place stood in for (fallback_place): not the resident's own compound.
UNPLACED_TIER_NAMES = ("社区", "社区", "街道")


def tier_names(placed: bool) -> tuple[str, ...]:
    """What the tiers are called: the resident's own (本小区) only when the place is known."""
    return TIER_NAMES if placed else UNPLACED_TIER_NAMES


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


async def reachable_now(ctx: Ctx, people: Sequence[reach.Reader]) -> set[str]:
    """The openids among `people` a message queued now reaches soon (storage/reach.py)."""
    return await reach.reachable(
        session=ctx.session,
        people=people,
        now=ctx.now,
        template=bool(ctx.config.wechat.template_id),
    )


@dataclass(frozen=True)
class Plan:
    """Whom a request goes to: `chosen` are told now, `parked` when they next write; with
    nobody to tell now, `reason` says why the workers are asked instead."""

    chosen: list[Candidate]
    parked: list[Candidate]
    tier: int
    reason: str | None = None
    placed: bool = True  # False when the place was stood in for (fallback_place)

    def born(self, now: datetime) -> dict[str, Any]:
        """How a request planned before it is stored is stored: its state, the fields that
        go with it, and (`then`) the event of how it got there (requests.create)."""
        if self.reason is not None:
            return {
                "status": Status.ESCALATED,
                "then": [_event("escalated", Status.ESCALATED, self.reason)],
            }
        return {
            "status": Status.OFFERED,
            "tier": self.tier,
            "offered_at": now,
            "then": [_event("offered", Status.OFFERED, self.note)],
        }

    @property
    def note(self) -> str:
        """What the history says of the offers."""
        name = tier_names(self.placed)[self.tier]
        parts = [f"{name} {len(self.chosen)} 位志愿者"] if self.chosen else []
        if self.parked:
            parts.append(f"{len(self.parked)} 位暂时收不到消息的志愿者（等对方来消息时送达）")
        return "；".join(parts)


def _event(kind: str, to: str, note: str) -> requests.Event:
    return requests.Event("system", kind, from_status=Status.OPEN, to_status=to, note=note)


NO_PLACE = Plan([], [], 0, "没有可用的小区信息")


class Need(Protocol):
    """What routing looks at of a request, stored (HelpRequest) or not yet (NewRequest)."""

    @property
    def category(self) -> str: ...
    @property
    def building(self) -> str | None: ...
    @property
    def when_at(self) -> datetime | None: ...
    @property
    def when_has_time(self) -> bool: ...


async def plan(
    ctx: Ctx,
    place: Place,
    need: Need,
    *,
    request_id: int | None = None,
    from_tier: int = 0,
    placed: bool = True,
) -> Plan:
    """The best few volunteers a message reaches now, of the nearest tier (at or beyond
    `from_tier`) that has any, and those out of reach who fill the batch; reads only (one
    statement), so a new request can be planned before it is stored (`request_id` of one
    stored: whom it was offered to already)."""
    when_at = need.when_at
    at = texts.local(when_at, ctx.tz) if when_at else ctx.local_now
    template = bool(ctx.config.wechat.template_id)
    found = await volunteers.candidates(
        session=ctx.session,
        category=need.category,
        place=place,
        building=need.building,
        local_at=at,
        has_time=need.when_has_time or when_at is None,
        not_asked_for=request_id,
        count_waiting=not template,
    )
    found = [c for c in found if c.tier >= from_tier]
    reached = await reach.reachable(
        session=ctx.session,
        people=found,
        now=ctx.now,
        template=template,
        waiting={c.openid: c.waiting for c in found},
    )
    batch = ctx.config.routing.offer_batch
    near = [c for c in found if c.openid in reached]
    if not near:
        # Nobody can be told now: the workers are asked at once rather than after the offer
        # timeout; the nearest few still get an offer to find when they next write.
        parked = [c for c in found if c.tier == found[0].tier][:batch] if found else []
        reason = "附近的志愿者暂时都收不到消息" if found else "附近暂时没有能接的志愿者"
        return Plan([], parked, found[0].tier if found else 0, reason, placed)
    tier = near[0].tier
    chosen = [c for c in near if c.tier == tier][:batch]
    parked = [c for c in found if c.openid not in reached and c.tier <= tier]
    return Plan(chosen, parked[: batch - len(chosen)], tier, placed=placed)


async def offer(
    ctx: Ctx, request: HelpRequest, *, from_tier: int = 0, place: Place | None = None
) -> Routed:
    """Offer the request to the best few volunteers a message reaches now, of the nearest tier
    (at or beyond `from_tier`) that has any; with nobody reachable in any tier, escalate to
    the community's admins at once. Volunteers out of reach get offers only to fill the batch,
    waiting for them to write, and are never counted as notified."""
    assert request.id is not None
    known = place or await place_of(ctx, request)
    place = known or await fallback_place(ctx)
    if place is None:
        return await escalate(ctx, request, reason="没有可用的小区信息")
    chosen = await plan(
        ctx, place, request, request_id=request.id, from_tier=from_tier, placed=known is not None
    )
    return await carry_out(ctx, request, place, chosen)


async def carry_out(
    ctx: Ctx, request: HelpRequest, place: Place | None, chosen: Plan, *, created: bool = False
) -> Routed:
    """Record and queue what `chosen` says; `created` when the request was just stored as the
    plan has it (Plan.born), its event with it."""
    if chosen.reason is not None:
        await escalate(ctx, request, reason=chosen.reason, place=place, created=created)
        await _send_offers(ctx, request, place, chosen, created=False)
        return Routed(offered=0, tier=None, escalated=True, parked=len(chosen.parked))
    await _send_offers(ctx, request, place, chosen, created=created)
    return Routed(
        offered=len(chosen.chosen), tier=chosen.tier, escalated=False, parked=len(chosen.parked)
    )


async def _send_offers(
    ctx: Ctx, request: HelpRequest, place: Place | None, chosen: Plan, *, created: bool
) -> None:
    """Record and queue the offers: to the chosen now, to the parked when they next write;
    the offers in one statement, their notices in another."""
    assert request.id is not None
    everyone = chosen.chosen + chosen.parked
    if not everyone or place is None:
        return
    tier, note = chosen.tier, chosen.note
    moved = chosen.chosen and (request.status != Status.OFFERED or request.tier != tier)
    if created:  # stored offered, with its event (Plan.born)
        pass
    elif moved:
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
    await offers.record(
        session=ctx.session,
        request_id=request.id,
        volunteer_ids=[c.volunteer_id for c in everyone],
        tier=tier,
        new=created,
    )
    # A stand-in compound (fallback_place) is where the offers go, not where help is needed.
    shown = place.compound if request.compound_id is not None else None
    message = texts.offer(request, shown, ctx.tz, ctx.local_now)
    # An offer read days later, when the volunteer next opens the account, would only confuse.
    stale_after = ctx.now + OFFER_NEWS_FOR
    if request.when_at is not None and request.when_at < stale_after:
        stale_after = max(request.when_at, ctx.now + ctx.config.routing.offer_timeout)
    await ctx.notify.many(
        [c.openid for c in everyone],
        message,
        expires_at=stale_after,
        request_id=request.id,
        purpose=relevance.OFFER,
    )


async def fallback_place(ctx: Ctx) -> Place | None:
    """Where a request whose compound is unknown (an emergency asked before the place was
    given) is routed: the first compound of the configured community stands in."""
    known = await org.places(session=ctx.session)
    return known[0] if known else None


async def escalate(
    ctx: Ctx,
    request: HelpRequest,
    *,
    reason: str,
    place: Place | None = None,
    created: bool = False,
) -> Routed:
    """Hand the request to the community's admins (社区吹哨), once; `created` when it was
    just stored as escalated, with its event (Plan.born)."""
    if not created:  # else stored escalated, with its event (Plan.born)
        if request.status == Status.ESCALATED:
            return Routed(offered=0, tier=None, escalated=True)
        await requests.transition(
            session=ctx.session,
            request=request,
            allowed=(Status.OPEN, Status.OFFERED),
            to=Status.ESCALATED,
            actor="system",
            kind="escalated",
            note=reason,
        )
    if place is None or place.compound_id != request.compound_id:
        place = await place_of(ctx, request)
    await ctx.tell_admins(
        f"社区吹哨：{texts.headline(request)} {reason}。\n"
        f"地点：{texts.place_text(place.compound if place else None, request, private=False)}\n"
        f"时间：{texts.when_text(request, ctx.tz, ctx.local_now)}\n"
        f"需要：{texts.need_text(request)}\n"
        f"请回复“派单 #{request.id} 志愿者姓名”指派。",
        about=request,
        community_id=place.community_id if place else None,
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
