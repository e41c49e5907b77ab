"""Requests and their history; every change of state is a guarded UPDATE plus an event."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from storage import conversations, relevance
from storage.errors import Conflict, NotFound
from storage.models import HelpRequest, RequestEvent, Status
from storage.types import utcnow

_TABLE = cast(Table, HelpRequest.__table__)  # type: ignore[attr-defined]
_EVENTS = insert(cast(Table, RequestEvent.__table__))  # type: ignore[attr-defined]
# An extra condition on the requests a query counts (a worker's scope), or None for all.
Condition = ColumnElement[bool] | None

ACTIVE = (Status.OPEN, Status.OFFERED, Status.ESCALATED, Status.ACCEPTED)
WAITING = (Status.OPEN, Status.OFFERED, Status.ESCALATED)
# Events whose note holds people's own words (a relayed message, a complaint): purged and
# erased with the request's other personal fields.
PERSONAL_NOTES = ("relayed", "complaint")


@dataclass(frozen=True)
class NewRequest:
    """What a resident asked for, as understood."""

    category: str
    urgency: str
    text: str
    beneficiary: str | None = None
    when_at: datetime | None = None
    when_has_time: bool = False
    compound_id: int | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    phone: str | None = None


# A new request comes back whole from its INSERT (RETURNING) as a loaded ORM object: no
# unit-of-work flush, no model validation, no refresh (half the cost of session.add + flush).
_NEW_FIELDS = (*NewRequest.__dataclass_fields__, "resident_id", "status", "tier", "offered_at")
_CREATE = select(HelpRequest).from_statement(
    insert(_TABLE).values({name: bindparam(name) for name in _NEW_FIELDS}).returning(*_TABLE.c)
)


async def create(
    *,
    session: AsyncSession,
    resident_id: int,
    data: NewRequest,
    actor: str,
    status: str = Status.OPEN,
    tier: int = 0,
    offered_at: datetime | None = None,
    then: Sequence[Event] = (),
) -> HelpRequest:
    """Store a new request and its first event; its id is its number.

    A request routed before it is stored is born in the state routing chose (`status`, its
    `tier` and `offered_at`, and `then` the events of how it got there): nobody else can see
    it yet, so there is no race to guard."""
    values = {
        **asdict(data),
        "resident_id": resident_id,
        "status": status,
        "tier": tier,
        "offered_at": offered_at,
    }
    request = (await session.scalars(_CREATE, values)).one()
    created = Event(actor=actor, kind="created", to_status=Status.OPEN)
    await add_events(session=session, request=request, events=[created, *then])
    return request


async def describe(
    *, session: AsyncSession, request: HelpRequest, data: NewRequest, actor: str
) -> HelpRequest:
    """Give a request stored before its need was said (帮帮我, then what for) what the
    resident asked for, keeping its number: its text becomes both messages, one after the
    other. Only while it is still open (nobody asked yet), or raise Conflict."""
    assert request.id is not None
    values = {**asdict(data), "text": f"{request.text}；{data.text}" if request.text else data.text}
    await _guarded_update(session, request, (Status.OPEN,), values)
    await add_event(session=session, request=request, actor=actor, kind="described")
    return request


async def _guarded_update(
    session: AsyncSession, request: HelpRequest, allowed: tuple[str, ...], values: dict[str, Any]
) -> None:
    """Write `values` if the request is still in one of `allowed` states, or raise Conflict.
    On the table, not the entity: the row comes back whole (RETURNING) and is set on the
    loaded object as it is in the database, with no refresh after."""
    row = (
        await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == request.id, _TABLE.c.status.in_(allowed))
            .values(**values)
            .returning(*_TABLE.c)
        )
    ).one_or_none()
    if row is None:
        await session.refresh(request)
        raise Conflict(f"#{request.id} is {request.status}, not {'/'.join(allowed)}")
    for name, value in row._mapping.items():
        set_committed_value(request, name, value)


async def get(*, session: AsyncSession, number: int) -> HelpRequest:
    """The request #number."""
    request = await session.get(HelpRequest, number)
    if request is None:
        raise NotFound(f"no request #{number}")
    return request


@dataclass(frozen=True)
class Event:
    """One entry of a request's history, before it is written."""

    actor: str
    kind: str
    from_status: str | None = None
    to_status: str | None = None
    note: str | None = None


async def add_event(
    *,
    session: AsyncSession,
    request: HelpRequest,
    actor: str,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> None:
    """Append one entry to the request's history."""
    await add_events(
        session=session, request=request, events=[Event(actor, kind, from_status, to_status, note)]
    )


async def add_events(
    *, session: AsyncSession, request: HelpRequest, events: Sequence[Event]
) -> None:
    """Append entries to the request's history in one statement (Core: no ids to read back)."""
    assert request.id is not None
    await session.execute(_EVENTS, [{"request_id": request.id, **asdict(e)} for e in events])


async def transition(
    *,
    session: AsyncSession,
    request: HelpRequest,
    allowed: Iterable[str],
    to: str,
    actor: str,
    kind: str,
    note: str | None = None,
    **values: Any,
) -> HelpRequest:
    """Move the request to `to` if it is still in one of `allowed` states, or raise Conflict.

    The state check is part of the UPDATE, so of two racing transitions (two volunteers
    accepting in the same second, on any number of processes) exactly one succeeds.
    """
    assert request.id is not None
    allowed = tuple(allowed)
    if to in conversations.OPEN or any(status in conversations.OPEN for status in allowed):
        conversations.forget(session)  # an acceptance or an ending opens or closes one
    before = request.status
    await _guarded_update(session, request, allowed, {"status": to, **values})
    # What was queued about the request and is no longer true goes now, not at the
    # deliverer's next sweep (storage/relevance.py).
    await relevance.drop_stale(session=session, now=utcnow(), request_ids=[request.id])
    await add_event(
        session=session,
        request=request,
        actor=actor,
        kind=kind,
        from_status=before,
        to_status=to,
        note=note,
    )
    return request


async def of_resident(
    *,
    session: AsyncSession,
    resident_id: int,
    statuses: Sequence[str] = ACTIVE,
    limit: int | None = None,
) -> list[HelpRequest]:
    """A resident's requests in these states, newest first (the newest `limit`)."""
    rows = await session.scalars(
        select(HelpRequest)
        .where(col(HelpRequest.resident_id) == resident_id, col(HelpRequest.status).in_(statuses))
        .order_by(col(HelpRequest.id).desc())
        .limit(limit)
    )
    return list(rows)


async def of_volunteer(
    *, session: AsyncSession, volunteer_id: int, statuses: Sequence[str] = (Status.ACCEPTED,)
) -> list[HelpRequest]:
    """A volunteer's tasks in these states, oldest first."""
    rows = await session.scalars(
        select(HelpRequest)
        .where(col(HelpRequest.volunteer_id) == volunteer_id, col(HelpRequest.status).in_(statuses))
        .order_by(col(HelpRequest.id))
    )
    return list(rows)


async def history(*, session: AsyncSession, number: int) -> list[RequestEvent]:
    """Every event of request #number, oldest first."""
    rows = await session.scalars(
        select(RequestEvent)
        .where(col(RequestEvent.request_id) == number)
        .order_by(col(RequestEvent.id))
    )
    return list(rows)


async def counts_by_status(
    *, session: AsyncSession, since: datetime | None = None, where: Condition = None
) -> dict[str, int]:
    """How many requests are in each state (created since `since`, and where `where` holds)."""
    query = select(col(HelpRequest.status), func.count()).group_by(col(HelpRequest.status))
    if where is not None:
        query = query.where(where)
    if since is not None:
        query = query.where(col(HelpRequest.created_at) >= since)
    return {status: int(n) for status, n in (await session.execute(query)).all()}


async def average_score(
    *, session: AsyncSession, since: datetime, where: Condition = None
) -> tuple[float | None, int]:
    """The mean score of requests closed since `since`, and how many were scored."""
    query = select(func.avg(HelpRequest.score), func.count(col(HelpRequest.score))).where(
        col(HelpRequest.closed_at) >= since
    )
    row = (await session.execute(query if where is None else query.where(where))).one()
    return (float(row[0]) if row[0] is not None else None), int(row[1])


async def purge_personal(
    *, session: AsyncSession, request_ids: Sequence[int], place_too: bool = False
) -> None:
    """Erase the personal fields of these requests and the words in their history, keeping
    what anonymous counts need (the category, states, times and compound; the building too
    unless `place_too`)."""
    if not request_ids:
        return
    values: dict[str, Any] = dict(
        text=None, beneficiary=None, unit=None, room=None, phone=None, purged_at=utcnow()
    )
    if place_too:
        values["building"] = None
    await session.execute(
        update(HelpRequest).where(col(HelpRequest.id).in_(request_ids)).values(**values)
    )
    await session.execute(
        update(RequestEvent)
        .where(
            col(RequestEvent.request_id).in_(request_ids),
            col(RequestEvent.kind).in_(PERSONAL_NOTES),
        )
        .values(note=None)
    )


async def in_status(
    *, session: AsyncSession, statuses: Sequence[str], where: Condition = None
) -> list[HelpRequest]:
    """Every request in these states (where `where` holds), oldest first."""
    query = select(HelpRequest).where(col(HelpRequest.status).in_(statuses))
    if where is not None:
        query = query.where(where)
    rows = await session.scalars(query.order_by(col(HelpRequest.id)))
    return list(rows)


async def ended_before(*, session: AsyncSession, before: datetime) -> list[int]:
    """Numbers of requests that ended (closed, cancelled, expired) before `before`, unpurged."""
    rows = await session.scalars(
        select(col(HelpRequest.id)).where(
            col(HelpRequest.status).in_((Status.CLOSED, Status.CANCELLED, Status.EXPIRED)),
            col(HelpRequest.purged_at).is_(None),
            col(HelpRequest.closed_at) < before,
        )
    )
    return [n for n in rows if n is not None]
