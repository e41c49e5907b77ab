"""What a queued message depends on, checked when it is claimed for sending.

A message may wait in the outbox for hours (its reader is outside WeChat's 48-hour window).
One tied to a request by a purpose stays true only while the condition of its purpose holds;
when it no longer does, the message is dropped in the very transaction that claims messages,
so an offer of a task someone already took, or a reminder of a task given back, never arrives.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.models import HelpRequest, Offer, OutboxMessage, Status, User, Volunteer
from storage.sql import affected

OFFER = "offer"  # an offer: true while the request waits and this reader's offer is open
OFFER_NEWS = "offer_news"  # news of an offer (taken, cancelled): true if the offer went out
TASK = "task"  # a reminder or check-in: true while the reader still holds the accepted task
ESCALATION = "escalation"  # admins asked to assign: true while the request is escalated

_Q = OutboxMessage


def _reader_volunteer() -> ColumnElement[bool]:
    # The volunteer record of the message's reader, joined in by the caller's FROM.
    return and_(col(Volunteer.user_id) == User.id, col(User.openid) == col(_Q.openid))


def _offer_open() -> ColumnElement[bool]:
    return exists(
        select(1)
        .select_from(Offer)
        .join(HelpRequest, col(HelpRequest.id) == Offer.request_id)
        .join(Volunteer, col(Volunteer.id) == Offer.volunteer_id)
        .join(User, col(User.id) == Volunteer.user_id)
        .where(
            col(Offer.request_id) == col(_Q.request_id),
            col(Offer.outcome).is_(None),
            col(HelpRequest.status).in_((Status.OFFERED, Status.ESCALATED)),
            _reader_volunteer(),
        )
    )


def _offer_went_out() -> ColumnElement[bool]:
    offer = aliased(OutboxMessage)
    return exists(
        select(1).where(
            col(offer.request_id) == col(_Q.request_id),
            col(offer.openid) == col(_Q.openid),
            col(offer.purpose) == OFFER,
            col(offer.status).in_(("sent", "sending")),
        )
    )


def _task_held() -> ColumnElement[bool]:
    return exists(
        select(1)
        .select_from(HelpRequest)
        .join(Volunteer, col(Volunteer.id) == HelpRequest.volunteer_id)
        .join(User, col(User.id) == Volunteer.user_id)
        .where(
            col(HelpRequest.id) == col(_Q.request_id),
            col(HelpRequest.status) == Status.ACCEPTED,
            _reader_volunteer(),
        )
    )


def _escalated() -> ColumnElement[bool]:
    return exists(
        select(1).where(
            col(HelpRequest.id) == col(_Q.request_id),
            col(HelpRequest.status) == Status.ESCALATED,
        )
    )


STILL_TRUE = {
    OFFER: _offer_open,
    OFFER_NEWS: _offer_went_out,
    TASK: _task_held,
    ESCALATION: _escalated,
}


def _stale() -> ColumnElement[bool]:
    return or_(false(), *(and_(col(_Q.purpose) == p, ~holds()) for p, holds in STILL_TRUE.items()))


def still_true() -> ColumnElement[bool]:
    """A queued message whose purpose, if it has one, still holds."""
    return ~_stale()


async def drop_stale(
    *,
    session: AsyncSession,
    now: datetime,
    openids: Collection[str] | None = None,
    request_ids: Collection[int] | None = None,
    among: ColumnElement[bool] | None = None,
) -> int:
    """Drop every claimable message (only of these readers, or about these requests, and
    only `among` those a condition picks) whose purpose no longer holds; how many were
    dropped. The condition is tested before the purpose, which costs a probe or two of other
    tables per message."""
    stale = _stale()
    claimable = or_(
        col(_Q.status) == "pending",
        and_(col(_Q.status) == "sending", col(_Q.lease_until) < now),
    )
    readers = col(_Q.openid).in_(list(openids)) if openids is not None else true()
    about = (
        col(_Q.request_id).in_(list(request_ids))
        if request_ids is not None
        else col(_Q.request_id).is_not(None)
    )
    return await affected(
        session,
        update(OutboxMessage)
        .where(readers, about, claimable, true() if among is None else among, stale)
        .values(status="dropped", lease_until=None, last_error="no longer true when due")
        .execution_options(synchronize_session=False),
    )
