"""The delivery engine's bookkeeping, part two: batches formed, sent again, settled.

A batch is the pending rows of a notice in an id range, recorded on the notice when it is
formed (committed before WeChat is called), so forming one writes no row; settling it marks
its rows and counts them on the notice. A notice has at most one batch in flight. A batch
still in flight when an engine starts is one whose answer was lost: a mass send goes again
with the same clientmsgid (WeChat answers 45065 if it already went), a customer-service
message is never sent twice and fails as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.broadcast_delivery import load, pending, reachable, skip_left, skip_over_quota
from storage.broadcasts import DAILY_MASS_CALLS, Rules
from storage.errors import Conflict
from storage.models import (
    Broadcast,
    BroadcastDelivery,
    BroadcastState,
    DeliveryState,
    MassCalls,
    MassQuota,
    User,
)
from storage.sql import affected, insert_for

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
    after: int  # its rows: pending ones with ids after this, up to `up_to`
    up_to: int
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


async def next_batch(
    *, session: AsyncSession, broadcast: Broadcast, rules: Rules, now: datetime
) -> Batch | Wait | None:
    """Form the next batch (None when nothing is left to send)."""
    bid, start = broadcast.id, broadcast.batched_to
    assert bid is not None
    after, skipped = start, 0
    while True:
        limit = None if broadcast.plan == "tag" else rules.batch_size + 2
        upcoming = [
            int(row_id)
            for row_id in await session.scalars(
                select(col(_D.id)).where(*pending(bid, after)).order_by(col(_D.id)).limit(limit)
            )
            if row_id is not None
        ]
        if not upcoming:
            await _count_skipped(session, bid, skipped)
            return None
        if broadcast.plan == "tag":
            take, via = len(upcoming), "tag"
        elif broadcast.plan == "custom" or len(upcoming) == 1:
            take, via = 1, "custom"
        else:
            take = min(rules.batch_size, len(upcoming))
            take -= 1 if len(upcoming) - take == 1 else 0  # a list needs two openids
            via = "openids"
        if via != "custom" or await reachable(session, upcoming[0], now):
            break
        after = upcoming[0]
        skipped += await affected(
            session,
            update(_D)
            .where(col(_D.id) == after)
            .values(state=DeliveryState.SKIPPED_WINDOW, error="outside the 48-hour window"),
        )
    await _count_skipped(session, bid, skipped)
    if via != "custom" and not await _take_mass_call(session, rules, now):
        local = now.astimezone(rules.tz)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
        return Wait(midnight)
    number, up_to = broadcast.next_batch, upcoming[take - 1]
    formed = update(Broadcast).where(
        col(Broadcast.id) == bid,
        col(Broadcast.in_flight).is_(None),
        col(Broadcast.batched_to) == start,
    )
    formed = formed.values(
        in_flight=number,
        next_batch=number + 1,
        in_flight_after=start,
        batched_to=up_to,
        in_flight_since=now,
        attempts=0,
        next_attempt_at=None,
    )
    if not await affected(session, formed):
        raise Conflict(f"broadcast {bid}: another engine formed a batch")
    rows = pending(bid, start, up_to)
    # Recipients are fixed when sending starts; a long notice's later batches honour who has
    # opted out or unfollowed since, and whose monthly quota another notice used up.
    left = await skip_left(session, rows)
    if via != "custom" and rules.account_type == "service":
        left += await skip_over_quota(session, bid, rules.month(now), rows=rows)
    await _count_skipped(session, bid, left)
    return await in_flight(session=session, broadcast=await load(session=session, broadcast_id=bid))


async def _count_skipped(session: AsyncSession, broadcast_id: int, count: int) -> None:
    if count:
        await session.execute(
            update(Broadcast)
            .where(col(Broadcast.id) == broadcast_id)
            .values(skipped=col(Broadcast.skipped) + count)
        )


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
    number, after = broadcast.in_flight, broadcast.in_flight_after
    assert broadcast.id is not None and number is not None and after is not None
    up_to = broadcast.batched_to
    openids = list(
        await session.scalars(
            select(col(_D.openid)).where(*pending(broadcast.id, after, up_to)).order_by(col(_D.id))
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
        after=after,
        up_to=up_to,
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


COUNTERS = {
    DeliveryState.SENT: "sent",
    DeliveryState.FAILED: "failed",
    DeliveryState.SKIPPED_WINDOW: "skipped",
}


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
    marked = await affected(
        session,
        update(_D)
        .where(*pending(batch.broadcast_id, batch.after, batch.up_to))
        .values(
            state=state,
            batch=batch.number,
            error=error[:64] if error else None,
            sent_at=now if state == DeliveryState.SENT else None,
        ),
    )
    counter = COUNTERS[state]
    await session.execute(
        update(Broadcast)
        .where(col(Broadcast.id) == batch.broadcast_id)
        .values({counter: getattr(Broadcast, counter) + marked})
    )
    if state == DeliveryState.SENT and batch.via == "custom":
        await session.execute(
            update(User)
            .where(col(User.openid).in_(batch.openids))
            .values(cs_sent_since_interaction=col(User.cs_sent_since_interaction) + 1)
        )
    elif state == DeliveryState.SENT and rules.account_type == "service":
        month = rules.month(now)
        counted = select(col(_D.openid), literal(month), literal(1)).where(
            col(_D.broadcast_id) == batch.broadcast_id,
            col(_D.id) > batch.after,
            col(_D.id) <= batch.up_to,
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
    stmt = update(Broadcast).where(
        col(Broadcast.id) == broadcast_id,
        col(Broadcast.state) == BroadcastState.SENDING,
        col(Broadcast.in_flight).is_(None),
        ~exists().where(*pending(broadcast_id, 0)),
    )
    return await affected(session, stmt.values(state=BroadcastState.DONE, finished_at=now)) == 1
