"""Conversations: a resident and the volunteer who accepted their request, talking through us."""

from __future__ import annotations

from sqlalchemy import or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import HelpRequest, Status, User, Volunteer

# From acceptance until the request closes: after "done" the two may still thank each other.
OPEN = (Status.ACCEPTED, Status.DONE)
_TALKING = "conversations.talking"  # the session.info key of the openids in one

# Built once: asked on behalf of nearly every chat message (storage/messages.py explains).
_open = col(HelpRequest.status).in_(OPEN)
_EVERYONE_TALKING = union(
    select(col(User.openid))
    .join(HelpRequest, col(HelpRequest.resident_id) == User.id)
    .where(_open, col(HelpRequest.volunteer_id).is_not(None)),
    select(col(User.openid))
    .join(Volunteer, col(Volunteer.user_id) == User.id)
    .join(HelpRequest, col(HelpRequest.volunteer_id) == Volunteer.id)
    .where(_open),
)


async def may_talk(*, session: AsyncSession, openid: str) -> bool:
    """Whether `openid` is in any open conversation, cheaply for the many who are not.

    Most chat comes from people in none, and a query per message would cost more than the
    rest of its handling; so the openids of everyone in one are read once per transaction
    (a batch of messages shares one) and read again after any request changed state.
    """
    talking = session.info.get(_TALKING)
    if talking is None:
        talking = session.info[_TALKING] = set(await session.scalars(_EVERYONE_TALKING))
    return openid in talking


def forget(session: AsyncSession) -> None:
    """A request changed state: who is in a conversation is read again when next asked."""
    session.info.pop(_TALKING, None)


async def open_for(*, session: AsyncSession, openid: str) -> list[HelpRequest]:
    """Requests whose conversation `openid` takes part in, as the resident who sent the
    request or as the volunteer who accepted it; oldest first."""
    if not await may_talk(session=session, openid=openid):
        return []
    user_id = select(col(User.id)).where(col(User.openid) == openid).scalar_subquery()
    as_volunteer = select(col(Volunteer.id)).where(col(Volunteer.user_id) == user_id)
    rows = await session.scalars(
        select(HelpRequest)
        .where(
            _open,
            col(HelpRequest.volunteer_id).is_not(None),
            or_(
                col(HelpRequest.resident_id) == user_id,
                col(HelpRequest.volunteer_id).in_(as_volunteer.scalar_subquery()),
            ),
        )
        .order_by(col(HelpRequest.id))
    )
    return list(rows)
