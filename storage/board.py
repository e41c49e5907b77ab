"""What the console's board and a request's page read: requests with their place and helper,
offers with their volunteers, and the names behind the openids of a history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Compound, HelpRequest, Offer, Status, User, Volunteer

ACTIVE = (Status.ESCALATED, Status.OPEN, Status.OFFERED, Status.ACCEPTED, Status.DONE)
ENDED = (Status.CLOSED, Status.CANCELLED, Status.EXPIRED)
ENDED_SHOWN = 100  # ended requests are many; the board shows the latest
# What needs a worker comes first: escalated requests, then the emergencies and urgent ones.
_URGENT_FIRST = case(
    (col(HelpRequest.status) == Status.ESCALATED, 0),
    (col(HelpRequest.urgency) == "emergency", 1),
    (col(HelpRequest.urgency) == "urgent", 2),
    else_=3,
)


@dataclass(frozen=True)
class Filters:
    """The board's filters; None is any."""

    category: str | None = None
    urgency: str | None = None
    compound_id: int | None = None
    status: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found = []
        if self.category:
            found.append(col(HelpRequest.category) == self.category)
        if self.urgency:
            found.append(col(HelpRequest.urgency) == self.urgency)
        if self.compound_id:
            found.append(col(HelpRequest.compound_id) == self.compound_id)
        return found


@dataclass(frozen=True)
class BoardRow:
    request: HelpRequest
    compound: str | None
    volunteer: str | None


async def board(
    *, session: AsyncSession, where: ColumnElement[bool], filters: Filters
) -> list[BoardRow]:
    """Requests inside `where` matching `filters`: the active ones (or the state asked for;
    of ended states only the latest), newest first."""
    statuses: Sequence[str] = (filters.status,) if filters.status else ACTIVE
    query = (
        select(HelpRequest, col(Compound.name), col(Volunteer.name))
        .outerjoin(Compound, col(Compound.id) == HelpRequest.compound_id)
        .outerjoin(Volunteer, col(Volunteer.id) == HelpRequest.volunteer_id)
        .where(where, col(HelpRequest.status).in_(statuses), *filters.conditions())
        .order_by(_URGENT_FIRST, col(HelpRequest.id).desc())
    )
    if any(status in ENDED for status in statuses):
        query = query.limit(ENDED_SHOWN)
    return [BoardRow(*row) for row in await session.execute(query)]


async def counts(
    *, session: AsyncSession, where: ColumnElement[bool], filters: Filters
) -> dict[str, int]:
    """How many requests inside `where` match the filters (but the state), by state."""
    rows = await session.execute(
        select(col(HelpRequest.status), func.count())
        .where(where, *filters.conditions())
        .group_by(col(HelpRequest.status))
    )
    return {status: int(n) for status, n in rows.all()}


async def one(*, session: AsyncSession, where: ColumnElement[bool], number: int) -> BoardRow | None:
    """Request #number with its place and helper, if it is inside `where`."""
    row = (
        await session.execute(
            select(HelpRequest, col(Compound.name), col(Volunteer.name))
            .outerjoin(Compound, col(Compound.id) == HelpRequest.compound_id)
            .outerjoin(Volunteer, col(Volunteer.id) == HelpRequest.volunteer_id)
            .where(where, col(HelpRequest.id) == number)
        )
    ).one_or_none()
    return BoardRow(*row) if row else None


@dataclass(frozen=True)
class OfferRow:
    volunteer: str
    tier: int
    sent_at: datetime
    outcome: str | None


async def offers_of(*, session: AsyncSession, request_id: int) -> list[OfferRow]:
    """Every offer of a request with the volunteer's name, in the order they went out."""
    rows = await session.execute(
        select(col(Volunteer.name), col(Offer.tier), col(Offer.sent_at), col(Offer.outcome))
        .join(Volunteer, col(Volunteer.id) == Offer.volunteer_id)
        .where(col(Offer.request_id) == request_id)
        .order_by(col(Offer.id))
    )
    return [OfferRow(*row) for row in rows.all()]


async def names_of(*, session: AsyncSession, openids: Sequence[str]) -> dict[str, str]:
    """A readable name for each openid: the volunteer's name, else the user's, if known."""
    if not openids:
        return {}
    rows = await session.execute(
        select(col(User.openid), col(Volunteer.name), col(User.name))
        .outerjoin(Volunteer, col(Volunteer.user_id) == User.id)
        .where(col(User.openid).in_(openids))
    )
    return {openid: name for openid, helper, person in rows.all() if (name := helper or person)}


async def volunteer_names(*, session: AsyncSession, where: ColumnElement[bool]) -> list[str]:
    """The names of active volunteers inside `where` (to pick one to assign)."""
    rows = await session.scalars(
        select(col(Volunteer.name))
        .where(where, col(Volunteer.active))
        .distinct()
        .order_by(col(Volunteer.name))
    )
    return list(rows)
