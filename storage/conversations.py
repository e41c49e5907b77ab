"""Conversations: a resident and the volunteer who accepted their request, talking through us."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import HelpRequest, Status, Volunteer

# From acceptance until the request closes: after "done" the two may still thank each other.
OPEN = (Status.ACCEPTED, Status.DONE)


async def open_for(*, session: AsyncSession, user_id: int) -> list[HelpRequest]:
    """Requests whose conversation `user_id` takes part in, as the resident who sent the
    request or as the volunteer who accepted it; oldest first."""
    as_volunteer = select(col(Volunteer.id)).where(col(Volunteer.user_id) == user_id)
    rows = await session.scalars(
        select(HelpRequest)
        .where(
            col(HelpRequest.status).in_(OPEN),
            col(HelpRequest.volunteer_id).is_not(None),
            or_(
                col(HelpRequest.resident_id) == user_id,
                col(HelpRequest.volunteer_id).in_(as_volunteer.scalar_subquery()),
            ),
        )
        .order_by(col(HelpRequest.id))
    )
    return list(rows)
