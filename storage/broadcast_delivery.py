"""The delivery engine's bookkeeping, part one: which notices are due, the lease on one, and
its recipients fixed as rows when sending starts (storage/broadcast_batches.py has the rest).

Every step is guarded in SQL, so two engines over one database never both take a step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from storage import audience as audiences
from storage.broadcasts import MASS_PER_USER_MONTH, Rules, reachable_by_custom
from storage.errors import NotFound
from storage.models import (
    Broadcast,
    BroadcastDelivery,
    BroadcastState,
    DeliveryState,
    MassQuota,
    TagMember,
    User,
)
from storage.sql import affected, backend, insert_for

ACTIVE = (BroadcastState.SCHEDULED, BroadcastState.SENDING)
_D = BroadcastDelivery


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
    audience is a whole tag (freshly copied from WeChat) with nobody under it left out, else
    "openids" lists, or "custom" messages on an account without list mass send. None if
    another engine did it first."""
    bid = broadcast.id
    assert bid is not None
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
    # Thousands of rows just arrived: without fresh statistics both planners read a batch's
    # rows through the (broadcast_id, openid) index, all of the notice's rows each time,
    # instead of the primary key's range. A sample is enough to tell them.
    if backend(session) == "sqlite":
        await session.execute(text("PRAGMA analysis_limit = 1000"))
    await session.execute(text("ANALYZE broadcast_delivery"))
    total = await _count(session, _D, col(_D.broadcast_id) == bid)
    skipped = 0
    if rules.account_type == "service" and broadcast.tag_id is not None:
        # A whole tag goes by tag only if nobody under it is over the quota (WeChat would
        # leave them out silently); otherwise each batch skips its own when it is formed.
        skipped += await skip_over_quota(session, bid, rules.month(now))
    plan = "custom" if rules.account_type == "subscription" else "openids"
    if tag_fresh and broadcast.tag_id is not None and total > skipped:
        members = await _count(session, TagMember, col(TagMember.tag_id) == broadcast.tag_id)
        if total - skipped == members:
            plan = "tag"
    if plan == "custom":
        skipped += await _skip_unreachable(session, bid, now)
    await session.execute(
        update(Broadcast)
        .where(col(Broadcast.id) == bid)
        .values(plan=plan, recipients=total, skipped=skipped)
    )
    return plan


async def _count(session: AsyncSession, table: type, condition: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count()).select_from(table).where(condition)) or 0)


def pending(
    broadcast_id: int, after: int = 0, up_to: int | None = None
) -> list[ColumnElement[bool]]:
    """Conditions for a notice's pending rows in an id range (a batch, or all after one)."""
    found = [
        col(_D.broadcast_id) == broadcast_id,
        col(_D.id) > after,
        col(_D.state) == DeliveryState.PENDING,
    ]
    if up_to is not None:
        found.append(col(_D.id) <= up_to)
    return found


async def skip_over_quota(
    session: AsyncSession,
    broadcast_id: int,
    month: str,
    *,
    rows: list[ColumnElement[bool]] | None = None,
) -> int:
    """Skip recipients who had their 4 mass messages this month (among `rows`, or all pending);
    how many."""
    over = select(col(MassQuota.openid)).where(
        col(MassQuota.month) == month, col(MassQuota.received) >= MASS_PER_USER_MONTH
    )
    return await affected(
        session,
        update(_D)
        .where(*(rows or pending(broadcast_id)), col(_D.openid).in_(over))
        .values(state=DeliveryState.SKIPPED_QUOTA, error="4 mass messages this month"),
    )


async def skip_left(session: AsyncSession, rows: list[ColumnElement[bool]]) -> int:
    """Skip recipients among `rows` who opted out or unfollowed since the rows were fixed."""
    left = select(col(User.openid)).where(
        or_(col(User.subscribed).is_(False), col(User.broadcast_opt_out).is_(True))
    )
    return await affected(
        session,
        update(_D)
        .where(*rows, col(_D.openid).in_(left))
        .values(state=DeliveryState.SKIPPED_OPT_OUT, error="opted out or unfollowed"),
    )


async def _skip_unreachable(session: AsyncSession, broadcast_id: int, now: datetime) -> int:
    reachable = select(col(User.openid)).where(reachable_by_custom(now))
    return await affected(
        session,
        update(_D)
        .where(*pending(broadcast_id), col(_D.openid).not_in(reachable))
        .values(state=DeliveryState.SKIPPED_WINDOW, error="outside the 48-hour window"),
    )


async def reachable(session: AsyncSession, row_id: int, now: datetime) -> bool:
    """Whether a customer-service message reaches the recipient of a delivery row now."""
    found = await session.scalar(
        select(col(User.id))
        .join(_D, col(_D.openid) == User.openid)
        .where(col(_D.id) == row_id, reachable_by_custom(now))
    )
    return found is not None
