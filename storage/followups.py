"""The queries behind follow-ups: when a request is due for one, and the claim that fires it.

Each `Due` is a WHERE clause over help_request read from the request's state and times; the
claim is an UPDATE guarded by that very clause, so a follow-up fires once however many
processes sweep, and never for a request that has moved on. Which follow-ups there are and
what each does is declared with the conversation logic that uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import requests
from storage.models import HelpRequest, Status

R = HelpRequest


@dataclass(frozen=True)
class Timing:
    """How long each stage of a request may last before its follow-up is due."""

    offer_timeout: timedelta
    urgent_offer_timeout: timedelta
    reminder_before: timedelta
    overdue_after: timedelta
    satisfaction_delay: timedelta
    auto_close_after: timedelta


Due = Callable[[Timing, datetime], ColumnElement[bool]]


def _timeout_passed(timing: Timing, now: datetime, since: Any) -> ColumnElement[bool]:
    normal = now - timing.offer_timeout
    urgent = now - timing.urgent_offer_timeout
    return or_(
        and_(col(R.urgency) == "normal", since <= normal),
        and_(col(R.urgency) != "normal", since <= urgent),
    )


def offer_timed_out(timing: Timing, now: datetime) -> ColumnElement[bool]:
    return and_(col(R.status) == Status.OFFERED, _timeout_passed(timing, now, col(R.offered_at)))


def left_open(timing: Timing, now: datetime) -> ColumnElement[bool]:
    # Nobody was asked yet (the place question went unanswered): ask with what is known.
    return and_(
        col(R.status) == Status.OPEN,
        _timeout_passed(timing, now, col(R.created_at)),
        or_(col(R.offered_at).is_(None), _timeout_passed(timing, now, col(R.offered_at))),
    )


def reminder_due(timing: Timing, now: datetime) -> ColumnElement[bool]:
    return and_(
        col(R.status) == Status.ACCEPTED,
        col(R.when_has_time),
        col(R.reminded_at).is_(None),
        col(R.when_at) <= now + timing.reminder_before,
        col(R.when_at) > now,
    )


def overdue(timing: Timing, now: datetime) -> ColumnElement[bool]:
    late = now - timing.overdue_after
    return and_(
        col(R.status) == Status.ACCEPTED,
        col(R.checked_in_at).is_(None),
        or_(
            and_(col(R.when_at).is_not(None), col(R.when_has_time), col(R.when_at) <= late),
            # A day without an hour is due by the end of that day.
            and_(
                col(R.when_at).is_not(None),
                ~col(R.when_has_time),
                col(R.when_at) <= late - timedelta(days=1),
            ),
            and_(col(R.when_at).is_(None), col(R.accepted_at) <= late),
        ),
    )


def score_due(timing: Timing, now: datetime) -> ColumnElement[bool]:
    return and_(
        col(R.status) == Status.DONE,
        col(R.asked_score_at).is_(None),
        col(R.done_at) <= now - timing.satisfaction_delay,
    )


def close_due(timing: Timing, now: datetime) -> ColumnElement[bool]:
    return and_(col(R.status) == Status.DONE, col(R.done_at) <= now - timing.auto_close_after)


async def due_numbers(
    *,
    session: AsyncSession,
    due: Due,
    timing: Timing,
    now: datetime,
    limit: int = 100,
    where: ColumnElement[bool] | None = None,
) -> list[int]:
    """The numbers of requests for which `due` holds (and `where`, if given), lowest first."""
    query = select(col(R.id)).where(due(timing, now)).order_by(col(R.id)).limit(limit)
    rows = await session.scalars(query if where is None else query.where(where))
    return [n for n in rows if n is not None]


async def claim(
    *,
    session: AsyncSession,
    number: int,
    due: Due,
    timing: Timing,
    now: datetime,
    marks: Mapping[str, Any],
) -> HelpRequest | None:
    """Set `marks` on request #number if `due` still holds; the request as it now is, or None
    when it is no longer due. A mark of None stands for `now` (the time the follow-up fired)."""
    values = {k: now if v is None else v for k, v in marks.items()}
    claimed = await session.scalar(
        update(R).where(col(R.id) == number, due(timing, now)).values(**values).returning(col(R.id))
    )
    if claimed is None:
        return None
    request = await requests.get(session=session, number=number)
    # The UPDATE went around the session: read the row as it now is.
    await session.refresh(request)
    return request
