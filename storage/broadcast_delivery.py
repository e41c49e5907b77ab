"""The delivery engine's bookkeeping: due notices, their recipients fixed as rows, batches
formed and settled, WeChat's quotas counted. Every step is guarded in SQL, so two engines
over one database settle each batch once.

A notice has at most one batch in flight. Forming a batch (numbering its rows) commits before
WeChat is called; settling it (marking its rows) happens after the answer. A batch still in
flight when an engine starts is one whose answer was lost: a mass send goes again with the
same clientmsgid (WeChat answers 45065 if it already went), a customer-service message is
never sent twice and fails as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import exists, func, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from storage import audience as audiences
from storage.broadcasts import (
    DAILY_MASS_CALLS,
    MASS_PER_USER_MONTH,
    Rules,
    reachable_by_custom,
)
from storage.errors import Conflict, NotFound
from storage.models import (
    Broadcast,
    BroadcastDelivery,
    BroadcastState,
    DeliveryState,
    MassCalls,
    MassQuota,
    TagMember,
    User,
)
from storage.sql import affected, backend, insert_for

ACTIVE = (BroadcastState.SCHEDULED, BroadcastState.SENDING)
_D = BroadcastDelivery


@dataclass(frozen=True)
class Batch:
    """Recipients sent in one WeChat call."""

    broadcast_id: int
    number: int
    via: str  # "tag" (sendall to a tag), "openids" (mass send to a list), "custom"
    openids: list[str]
    tag_id: int | None
    text: str
    nonce: str
    formed_at: datetime
    retry: bool = False  # sent again after a back-off, not left over from a crash

    @property
    def clientmsgid(self) -> str:
        """Derived from the notice and the batch: a repeat within 24 h is refused (45065)."""
        return f"jl{self.broadcast_id}-{self.nonce}-{self.number}"


@dataclass(frozen=True)
class Wait:
    """No batch can go before `until` (WeChat's daily mass-send quota is used up)."""

    until: datetime


async def due(*, session: AsyncSession, now: datetime, owner: str, limit: int = 10) -> list[int]:
    """Notices whose time has come, not backing off and not leased by another engine."""
    rows = await session.scalars(
        select(col(Broadcast.id))
        .where(
            col(Broadcast.state).in_(ACTIVE),
            col(Broadcast.send_at) <= now,
            or_(col(Broadcast.next_attempt_at).is_(None), col(Broadcast.next_attempt_at) <= now),
            _free_for(owner, now),
        )
        .order_by(col(Broadcast.send_at), col(Broadcast.id))
        .limit(limit)
    )
    return [int(i) for i in rows if i is not None]


def _free_for(owner: str, now: datetime) -> ColumnElement[bool]:
    return or_(
        col(Broadcast.lease_until).is_(None),
        col(Broadcast.lease_until) < now,
        col(Broadcast.lease_owner) == owner,
    )


async def claim(
    *, session: AsyncSession, broadcast_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take (or renew) the lease on a notice; False when another engine holds it."""
    stmt = (
        update(Broadcast)
        .where(
            col(Broadcast.id) == broadcast_id,
            col(Broadcast.state).in_(ACTIVE),
            _free_for(owner, now),
        )
        .values(lease_owner=owner, lease_until=now + lease)
    )
    return await affected(session, stmt) == 1


async def release(*, session: AsyncSession, broadcast_id: int, owner: str) -> None:
    """Give up the lease."""
    await session.execute(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
    )


async def load(*, session: AsyncSession, broadcast_id: int) -> Broadcast:
    """The notice, fresh from the database."""
    found = await session.get(Broadcast, broadcast_id, populate_existing=True)
    if found is None:
        raise NotFound(f"no broadcast {broadcast_id}")
    return found


# --- fixing the recipients ---------------------------------------------------------------


async def fix_recipients(
    *, session: AsyncSession, broadcast: Broadcast, rules: Rules, now: datetime, tag_fresh: bool
) -> str | None:
    """One pending row per recipient, as the audience is now, and the plan: "tag" when the
    audience is a whole tag (freshly synced from WeChat) that nobody in it opted out of, else
    "openids" lists, or "custom" messages on an account without list mass send. None if
    another engine did it first."""
    bid = broadcast.id
    started = update(Broadcast).where(
        col(Broadcast.id) == bid, col(Broadcast.state) == BroadcastState.SCHEDULED
    )
    if not await affected(session, started.values(state=BroadcastState.SENDING)):
        return None
    audience = audiences.Audience(
        broadcast.label,
        broadcast.community_id,
        broadcast.street_id,
        broadcast.compound_id,
        broadcast.building,
        cast(audiences.Role, broadcast.role),
        broadcast.tag_id,
    )
    scope = audiences.Scope(broadcast.scope_community_id, broadcast.scope_street_id)
    chosen = audiences.recipients(
        audience, scope, home_community_id=broadcast.home_community_id
    ).subquery()
    rows = select(literal(bid), chosen.c.openid, literal(DeliveryState.PENDING.value))
    await session.execute(
        insert_for(session, _D).from_select(["broadcast_id", "openid", "state"], rows)
    )
    if backend(session) == "postgresql":
        # Tens of thousands of rows just arrived: without fresh statistics the planner reads
        # every batch's rows by scanning the whole table.
        await session.execute(text("ANALYZE broadcast_delivery"))
    if rules.account_type == "service" and broadcast.tag_id is not None:
        # A whole tag goes by tag only if nobody under it is over the quota (WeChat would
        # leave them out silently); otherwise each batch skips its own when it is formed.
        await _skip_over_quota(session, bid, rules.month(now))
    counts = await _state_counts(session, bid)
    pending, total = counts.get(DeliveryState.PENDING, 0), sum(counts.values())
    plan = "subscription" if rules.account_type == "subscription" else "openids"
    if tag_fresh and broadcast.tag_id is not None and pending:
        members = await session.scalar(
            select(func.count()).where(col(TagMember.tag_id) == broadcast.tag_id)
        )
        if pending == members:
            plan = "tag"
    if plan == "subscription":
        plan = "custom"
        await _skip_unreachable(session, bid, now)
    await session.execute(
        update(Broadcast).where(col(Broadcast.id) == bid).values(plan=plan, recipients=total)
    )
    return plan


async def _skip_over_quota(
    session: AsyncSession, broadcast_id: int | None, month: str, *, batch: int | None = None
) -> None:
    """Skip recipients who had their 4 mass messages this month: among the unbatched rows, or
    in one batch."""
    over = select(col(MassQuota.openid)).where(
        col(MassQuota.month) == month, col(MassQuota.received) >= MASS_PER_USER_MONTH
    )
    rows = (
        _unbatched(broadcast_id)
        if batch is None
        else [col(_D.broadcast_id) == broadcast_id, col(_D.batch) == batch]
    )
    await session.execute(
        update(_D)
        .where(*rows, col(_D.state) == DeliveryState.PENDING, col(_D.openid).in_(over))
        .values(state=DeliveryState.SKIPPED_QUOTA, error="4 mass messages this month")
    )


async def _skip_unreachable(session: AsyncSession, broadcast_id: int | None, now: datetime) -> int:
    reachable = select(col(User.openid)).where(reachable_by_custom(now))
    return await affected(
        session,
        update(_D)
        .where(*_unbatched(broadcast_id), col(_D.openid).not_in(reachable))
        .values(state=DeliveryState.SKIPPED_WINDOW, error="outside the 48-hour window"),
    )


def _unbatched(broadcast_id: int | None) -> list[ColumnElement[bool]]:
    return [
        col(_D.broadcast_id) == broadcast_id,
        col(_D.batch).is_(None),
        col(_D.state) == DeliveryState.PENDING,
    ]


async def _state_counts(session: AsyncSession, broadcast_id: int | None) -> dict[str, int]:
    rows = await session.execute(
        select(col(_D.state), func.count())
        .where(col(_D.broadcast_id) == broadcast_id)
        .group_by(col(_D.state))
    )
    return {state: n for state, n in rows}


# --- batches ------------------------------------------------------------------------------


async def next_batch(
    *, session: AsyncSession, broadcast: Broadcast, rules: Rules, now: datetime
) -> Batch | Wait | None:
    """Number the next batch's rows (None when nothing is left to send)."""
    bid = broadcast.id
    assert bid is not None
    # Batches take pending rows in id order: the next one starts after the last one's rows,
    # so each batch reads its own rows only, never the whole remainder.
    after = int(
        await session.scalar(
            select(func.max(_D.id)).where(
                col(_D.broadcast_id) == bid, col(_D.batch) == broadcast.next_batch - 1
            )
        )
        or 0
    )
    while True:
        limit = None if broadcast.plan == "tag" else rules.batch_size + 2
        upcoming = list(
            await session.execute(
                select(col(_D.id), col(_D.openid))
                .where(*_unbatched(bid), col(_D.id) > after)
                .order_by(col(_D.id))
                .limit(limit)
            )
        )
        if not upcoming:
            return None
        if broadcast.plan == "tag":
            take, via = len(upcoming), "tag"
        elif broadcast.plan == "custom" or len(upcoming) == 1:
            take, via = 1, "custom"
        else:
            take = min(rules.batch_size, len(upcoming))
            take -= 1 if len(upcoming) - take == 1 else 0  # a list needs two openids
            via = "openids"
        if via != "custom" or await _reachable(session, upcoming[0][1], now):
            break
        after = upcoming[0][0]
        await session.execute(
            update(_D)
            .where(col(_D.id) == after)
            .values(state=DeliveryState.SKIPPED_WINDOW, error="outside the 48-hour window")
        )
    if via != "custom" and not await _take_mass_call(session, rules, now):
        local = now.astimezone(rules.tz)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
        return Wait(midnight)
    number = broadcast.next_batch
    formed = update(Broadcast).where(col(Broadcast.id) == bid, col(Broadcast.in_flight).is_(None))
    formed = formed.values(
        in_flight=number,
        next_batch=number + 1,
        in_flight_since=now,
        attempts=0,
        next_attempt_at=None,
    )
    if not await affected(session, formed):
        raise Conflict(f"broadcast {bid}: another engine formed a batch")
    last_id = upcoming[take - 1][0]
    await session.execute(
        update(_D)
        .where(*_unbatched(bid), col(_D.id) > after, col(_D.id) <= last_id)
        .values(batch=number)
    )
    in_batch = [
        col(_D.broadcast_id) == bid,
        col(_D.batch) == number,
        col(_D.state) == DeliveryState.PENDING,
    ]
    # Recipients are fixed when sending starts; a long notice's later batches honour who has
    # opted out or unfollowed since.
    left = select(col(User.openid)).where(
        or_(col(User.subscribed).is_(False), col(User.broadcast_opt_out).is_(True))
    )
    await session.execute(
        update(_D)
        .where(*in_batch, col(_D.openid).in_(left))
        .values(state=DeliveryState.SKIPPED_OPT_OUT, error="opted out or unfollowed")
    )
    if via != "custom" and rules.account_type == "service":
        # Another notice may have used up someone's monthly quota since the rows were fixed.
        await _skip_over_quota(session, bid, rules.month(now), batch=number)
    return await in_flight(session=session, broadcast=await load(session=session, broadcast_id=bid))


async def _reachable(session: AsyncSession, openid: str, now: datetime) -> bool:
    found = await session.scalar(
        select(col(User.id)).where(col(User.openid) == openid, reachable_by_custom(now))
    )
    return found is not None


async def _take_mass_call(session: AsyncSession, rules: Rules, now: datetime) -> bool:
    """Count one mass-send call against the day's quota; False when none is left."""
    day = rules.day(now)
    await session.execute(
        insert_for(session, MassCalls).values(day=day, calls=0).on_conflict_do_nothing()
    )
    taken = update(MassCalls).where(
        col(MassCalls.day) == day, col(MassCalls.calls) < DAILY_MASS_CALLS[rules.account_type]
    )
    return await affected(session, taken.values(calls=col(MassCalls.calls) + 1)) == 1


async def in_flight(*, session: AsyncSession, broadcast: Broadcast) -> Batch:
    """The batch formed and not yet settled, as it was formed."""
    number = broadcast.in_flight
    assert broadcast.id is not None and number is not None
    openids = list(
        await session.scalars(
            select(col(_D.openid))
            .where(
                col(_D.broadcast_id) == broadcast.id,
                col(_D.batch) == number,
                col(_D.state) == DeliveryState.PENDING,
            )
            .order_by(col(_D.id))
        )
    )
    via = "tag" if broadcast.plan == "tag" else "custom" if len(openids) == 1 else "openids"
    return Batch(
        broadcast_id=broadcast.id,
        number=number,
        via=via,
        openids=openids,
        tag_id=broadcast.tag_id,
        text=broadcast.text,
        nonce=broadcast.nonce,
        formed_at=broadcast.in_flight_since or broadcast.created_at,
        retry=broadcast.next_attempt_at is not None,
    )


async def wait_until(*, session: AsyncSession, broadcast_id: int, until: datetime) -> None:
    """Look at the notice again no sooner than `until` (a quota of the day is used up)."""
    await session.execute(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.in_flight).is_(None))
        .values(next_attempt_at=until)
    )


async def start_retry(*, session: AsyncSession, batch: Batch) -> bool:
    """Mark a retry as under way, so a crash during it is not mistaken for a back-off."""
    stmt = update(Broadcast).where(
        col(Broadcast.id) == batch.broadcast_id, col(Broadcast.in_flight) == batch.number
    )
    return await affected(session, stmt.values(next_attempt_at=None)) == 1


async def back_off(*, session: AsyncSession, batch: Batch, until: datetime, error: str) -> None:
    """WeChat asked us to wait: send the same batch again at `until`."""
    await session.execute(
        update(Broadcast)
        .where(col(Broadcast.id) == batch.broadcast_id, col(Broadcast.in_flight) == batch.number)
        .values(next_attempt_at=until, attempts=col(Broadcast.attempts) + 1, last_error=error[:250])
    )


async def settle(
    *,
    session: AsyncSession,
    batch: Batch,
    state: DeliveryState,
    rules: Rules,
    now: datetime,
    error: str | None = None,
) -> int:
    """Mark the batch's rows `state` and count what WeChat counts; how many rows changed (0
    when another engine settled it first)."""
    done = update(Broadcast).where(
        col(Broadcast.id) == batch.broadcast_id, col(Broadcast.in_flight) == batch.number
    )
    values: dict[str, object] = {"in_flight": None, "attempts": 0, "next_attempt_at": None}
    if error:
        values["last_error"] = error[:250]
    if not await affected(session, done.values(**values)):
        return 0
    rows = [
        col(_D.broadcast_id) == batch.broadcast_id,
        col(_D.batch) == batch.number,
        col(_D.state) == DeliveryState.PENDING,
    ]
    marked = await affected(
        session,
        update(_D)
        .where(*rows)
        .values(
            state=state,
            error=error[:64] if error else None,
            sent_at=now if state == DeliveryState.SENT else None,
        ),
    )
    if state != DeliveryState.SENT:
        return marked
    if batch.via == "custom":
        await session.execute(
            update(User)
            .where(col(User.openid).in_(batch.openids))
            .values(cs_sent_since_interaction=col(User.cs_sent_since_interaction) + 1)
        )
    elif rules.account_type == "service":
        month = rules.month(now)
        counted = select(col(_D.openid), literal(month), literal(1)).where(
            col(_D.broadcast_id) == batch.broadcast_id,
            col(_D.batch) == batch.number,
            col(_D.state) == DeliveryState.SENT,
        )
        stmt = insert_for(session, MassQuota).from_select(["openid", "month", "received"], counted)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["openid", "month"],
                set_={"received": col(MassQuota.received) + 1},
            )
        )
    return marked


async def finish_if_done(*, session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """Mark the notice done once nothing of it is pending."""
    pending = exists().where(
        col(_D.broadcast_id) == broadcast_id, col(_D.state) == DeliveryState.PENDING
    )
    stmt = update(Broadcast).where(
        col(Broadcast.id) == broadcast_id,
        col(Broadcast.state) == BroadcastState.SENDING,
        col(Broadcast.in_flight).is_(None),
        ~pending,
    )
    return await affected(session, stmt.values(state=BroadcastState.DONE, finished_at=now)) == 1
