"""Offers: which volunteers were asked to take a request, and how each offer ended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import HelpRequest, Offer, Status
from storage.sql import backend
from storage.types import utcnow


def _record_statement(dialect_insert: Any) -> Any:
    insert = dialect_insert(_OFFER)
    return insert.on_conflict_do_update(
        index_elements=[_OFFER.c.request_id, _OFFER.c.volunteer_id],
        set_={"outcome": None, "tier": insert.excluded.tier, "sent_at": insert.excluded.sent_at},
    )


_OFFER = cast(Table, Offer.__table__)  # type: ignore[attr-defined]
# SQLAlchemy 2.0 compiles an upsert on every execution (its dialects' INSERT is not cached),
# so a new request's offers, which cannot conflict with any, take a plain INSERT.
_INSERT = insert(_OFFER)
_REOPEN = {"sqlite": _record_statement(sqlite.insert), "postgresql": _record_statement(pg.insert)}


async def record(
    *,
    session: AsyncSession,
    request_id: int,
    volunteer_ids: Sequence[int],
    tier: int,
    new: bool = False,
) -> None:
    """Record offers of a request to these volunteers in one statement (an ended offer is
    opened again); `new` for a request just stored, which has none yet."""
    if not volunteer_ids:
        return
    sent_at = utcnow()
    await session.execute(
        _INSERT if new else _REOPEN[backend(session)],
        [
            {"request_id": request_id, "volunteer_id": v, "tier": tier, "sent_at": sent_at}
            for v in volunteer_ids
        ],
    )


async def mark(*, session: AsyncSession, request_id: int, volunteer_id: int, outcome: str) -> None:
    """Set how one volunteer's offer of a request ended."""
    await session.execute(
        update(Offer)
        .where(col(Offer.request_id) == request_id, col(Offer.volunteer_id) == volunteer_id)
        .values(outcome=outcome)
    )


async def open_for(*, session: AsyncSession, request_id: int) -> list[int]:
    """Volunteers whose offer of this request has not ended."""
    rows = await session.scalars(
        select(col(Offer.volunteer_id)).where(
            col(Offer.request_id) == request_id, col(Offer.outcome).is_(None)
        )
    )
    return list(rows)


async def was_offered(*, session: AsyncSession, request_id: int, volunteer_id: int) -> bool:
    """Whether this volunteer was offered this request."""
    found = await session.scalar(
        select(col(Offer.id)).where(
            col(Offer.request_id) == request_id, col(Offer.volunteer_id) == volunteer_id
        )
    )
    return found is not None


async def end(
    *, session: AsyncSession, request_id: int, outcome: str, volunteer_id: int | None = None
) -> list[int]:
    """End the open offers of a request (or one volunteer's) with `outcome`; return whose."""
    conditions = [col(Offer.request_id) == request_id, col(Offer.outcome).is_(None)]
    if volunteer_id is not None:
        conditions.append(col(Offer.volunteer_id) == volunteer_id)
    rows = await session.scalars(
        update(Offer).where(*conditions).values(outcome=outcome).returning(col(Offer.volunteer_id))
    )
    return list(rows)


async def waiting_for(*, session: AsyncSession, volunteer_id: int) -> list[HelpRequest]:
    """Requests offered to this volunteer that nobody has taken yet, oldest first."""
    rows = await session.scalars(
        select(HelpRequest)
        .join(Offer, col(Offer.request_id) == HelpRequest.id)
        .where(
            col(Offer.volunteer_id) == volunteer_id,
            col(Offer.outcome).is_(None),
            col(HelpRequest.status).in_((Status.OFFERED, Status.ESCALATED)),
        )
        .order_by(col(HelpRequest.id))
    )
    return list(rows)
