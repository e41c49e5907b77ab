"""Offers: which volunteers were asked to take a request, and how each offer ended."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import HelpRequest, Offer, Status
from storage.sql import insert_for
from storage.types import utcnow


async def record(
    *, session: AsyncSession, request_id: int, volunteer_ids: Sequence[int], tier: int
) -> None:
    """Record offers of a request to these volunteers (an ended offer is opened again)."""
    if not volunteer_ids:
        return
    insert = insert_for(session, Offer)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[Offer.request_id, Offer.volunteer_id],
            set_={
                "outcome": None,
                "tier": insert.excluded.tier,
                "sent_at": insert.excluded.sent_at,
            },
        ),
        [
            {"request_id": request_id, "volunteer_id": v, "tier": tier, "sent_at": utcnow()}
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
