"""The volunteer roster coming in from a file and the requests going out to one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage import bindings
from storage.db import Database
from storage.models import (
    Community,
    Compound,
    HelpRequest,
    RosterEntry,
    Street,
    User,
    Volunteer,
)
from storage.org import Place
from storage.sql import insert_for

_USER = cast(Table, User.__table__)  # type: ignore[attr-defined]
_VOLUNTEER = cast(Table, Volunteer.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class VolunteerData:
    """One volunteer as a roster file gives them, already validated (without an openid, with
    a phone)."""

    openid: str | None
    name: str
    phone: str | None
    skills: tuple[str, ...]
    building: str | None
    availability: tuple[str, ...] = ("anytime",)


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One request as exported: its fields with the resident's and volunteer's openids."""

    number: int
    status: str
    category: str
    urgency: str
    resident: str
    volunteer: str | None
    beneficiary: str | None
    compound: str | None
    building: str | None
    when_at: datetime | None
    when_has_time: bool
    score: int | None
    created_at: datetime
    accepted_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    text: str | None


# Rows per statement: well inside both backends' limits on bound parameters.
BATCH = 500
_USER_FIELDS = ("name", "phone", "compound_id", "building")
_VOLUNTEER_FIELDS = ("name", "phone", "skills", "compound_id", "building", "availability")


@dataclass
class Imported:
    """What an import did: how many volunteers (or roster entries) were new, how many wait for
    their WeChat account, and the rows it could not take (by index, with the reason)."""

    created: int = 0
    unbound: int = 0
    refused: dict[int, str] = field(default_factory=dict)


async def upsert_volunteers(
    *,
    session: AsyncSession,
    volunteers: Sequence[tuple[VolunteerData, Place]],
    task_limit: int,
    at: datetime,
) -> Imported:
    """Create or update each volunteer: by openid; without one, by phone (the volunteer with
    that phone, else the listed one still waiting for their WeChat account), never twice.

    The openids and phones must be distinct. New volunteers are active, not paused, with
    `task_limit`; one listed without an openid waits in the roster to be bound (bindings.py).
    """
    result = Imported()
    known = [(data, place) for data, place in volunteers if data.openid]
    for start in range(0, len(known), BATCH):
        result.created += await _upsert_batch(session, known[start : start + BATCH], task_limit)
    await _bind_listed(session, known, at)
    listed = [(n, data, place) for n, (data, place) in enumerate(volunteers) if not data.openid]
    for start in range(0, len(listed), BATCH):
        await _upsert_listed(session, listed[start : start + BATCH], result)
    return result


async def _bind_listed(
    session: AsyncSession, known: Sequence[tuple[VolunteerData, Place]], at: datetime
) -> None:
    # A volunteer listed earlier without an openid, now listed with one (same phone): the
    # listed entry is theirs, and nobody's claim to it can be approved any more.
    by_phone = {data.phone: data.openid for data, _ in known if data.phone}
    if not by_phone:
        return
    entries = await session.execute(
        select(col(RosterEntry.id), col(RosterEntry.phone)).where(
            col(RosterEntry.phone).in_(by_phone), col(RosterEntry.volunteer_id).is_(None)
        )
    )
    for entry_id, phone in entries.all():
        volunteer_id = await session.scalar(
            select(col(Volunteer.id))
            .join(User, col(User.id) == Volunteer.user_id)
            .where(col(User.openid) == by_phone[phone])
        )
        await session.execute(
            update(RosterEntry)
            .where(col(RosterEntry.id) == entry_id)
            .values(volunteer_id=volunteer_id, bound_at=at)
        )
        await bindings.withdraw_claims(session=session, entry_ids=[entry_id])


async def _upsert_listed(
    session: AsyncSession,
    batch: Sequence[tuple[int, VolunteerData, Place]],
    result: Imported,
) -> None:
    phones = [data.phone for _, data, _ in batch if data.phone]
    owners: dict[str, list[int]] = {}
    for volunteer_id, phone in await session.execute(
        select(col(Volunteer.id), col(Volunteer.phone)).where(col(Volunteer.phone).in_(phones))
    ):
        owners.setdefault(phone, []).append(volunteer_id)
    entries: dict[str, RosterEntry] = {
        entry.phone: entry
        for entry in await session.scalars(
            select(RosterEntry).where(
                col(RosterEntry.phone).in_(phones), col(RosterEntry.volunteer_id).is_(None)
            )
        )
    }
    for index, data, place in batch:
        fields = _listed_fields(data, place)
        found = owners.get(data.phone or "", [])
        if len(found) > 1:
            result.refused[index] = "phone belongs to several volunteers: add their openid"
        elif found:
            await session.execute(
                update(Volunteer).where(col(Volunteer.id) == found[0]).values(**fields, active=True)
            )
        elif (entry := entries.get(data.phone or "")) is not None:
            for name, value in fields.items():
                setattr(entry, name, value)
            session.add(entry)
            result.unbound += 1
        else:
            session.add(RosterEntry(**fields))
            result.created += 1
            result.unbound += 1
    await session.flush()


def _listed_fields(data: VolunteerData, place: Place) -> dict[str, Any]:
    """The roster's fields of a volunteer, as stored (the same for an entry and a volunteer)."""
    return {
        "name": data.name,
        "phone": data.phone,
        "skills": "|".join(data.skills),
        "compound_id": place.compound_id,
        "building": data.building,
        "availability": "|".join(data.availability),
    }


async def _upsert_batch(
    session: AsyncSession, batch: Sequence[tuple[VolunteerData, Place]], task_limit: int
) -> int:
    # One statement per batch rather than per row: SQLAlchemy caches no compiled form of the
    # dialects' INSERTs (needed for ON CONFLICT), and compiling one per row cost milliseconds.
    users = insert_for(session, _USER)
    # What the person told the bot themselves wins over the roster: fill only the blanks.
    keep = {name: func.coalesce(_USER.c[name], users.excluded[name]) for name in _USER_FIELDS}
    await session.execute(
        users.on_conflict_do_update(index_elements=["openid"], set_=keep),
        [
            {
                "openid": data.openid,
                "name": data.name,
                "phone": data.phone,
                "compound_id": place.compound_id,
                "building": data.building,
            }
            for data, place in batch
        ],
    )
    openids = [data.openid for data, _ in batch if data.openid]
    user_ids: dict[str | None, int] = {
        openid: user_id
        for openid, user_id in await session.execute(
            select(_USER.c.openid, _USER.c.id).where(_USER.c.openid.in_(openids))
        )
    }
    known = set(
        await session.scalars(
            select(_VOLUNTEER.c.user_id).where(_VOLUNTEER.c.user_id.in_(user_ids.values()))
        )
    )
    volunteers = insert_for(session, _VOLUNTEER)
    # A volunteer's own pause and a limit set for them survive a re-import; the roster's
    # fields are the file's to change, and being listed makes them active again.
    change = {name: volunteers.excluded[name] for name in _VOLUNTEER_FIELDS}
    await session.execute(
        volunteers.on_conflict_do_update(
            index_elements=["user_id"], set_=change | {"active": True}
        ),
        [
            {
                "user_id": user_ids[data.openid],
                **_listed_fields(data, place),
                "task_limit": task_limit,
                "active": True,
                "paused": False,
            }
            for data, place in batch
        ],
    )
    return len(batch) - len(known)


_RESIDENT = aliased(User)
_HELPER = aliased(User)


async def request_page(*, session: AsyncSession, after: int, limit: int) -> list[RequestRow]:
    """Up to `limit` requests numbered above `after`, in order of number."""
    query = (
        select(
            col(HelpRequest.id),
            col(HelpRequest.status),
            col(HelpRequest.category),
            col(HelpRequest.urgency),
            col(_RESIDENT.openid),
            col(_HELPER.openid),
            col(HelpRequest.beneficiary),
            col(Compound.name),
            col(HelpRequest.building),
            col(HelpRequest.when_at),
            col(HelpRequest.when_has_time),
            col(HelpRequest.score),
            col(HelpRequest.created_at),
            col(HelpRequest.accepted_at),
            col(HelpRequest.done_at),
            col(HelpRequest.closed_at),
            # A purged request keeps its counts, never its words, whatever the purge left behind.
            case((col(HelpRequest.purged_at).is_(None), col(HelpRequest.text)), else_=None),
        )
        .join(_RESIDENT, col(_RESIDENT.id) == HelpRequest.resident_id)
        .outerjoin(Volunteer, col(Volunteer.id) == HelpRequest.volunteer_id)
        .outerjoin(_HELPER, col(_HELPER.id) == Volunteer.user_id)
        .outerjoin(Compound, col(Compound.id) == HelpRequest.compound_id)
        .where(col(HelpRequest.id) > after)
        .order_by(col(HelpRequest.id))
        .limit(limit)
    )
    return [RequestRow(*found) for found in await session.execute(query)]


async def request_rows(*, db: Database, page_size: int = 500) -> AsyncIterator[RequestRow]:
    """Every request in order of number, read a page per short transaction.

    Short transactions rather than one long cursor: on SQLite a reader holds the write lock,
    and a slow consumer of the export must not stall the server for its whole length.
    """
    after = 0
    while True:
        async with db.transaction() as session:
            page = await request_page(session=session, after=after, limit=page_size)
        for row in page:
            yield row
        if len(page) < page_size:
            return
        after = page[-1].number


@dataclass(frozen=True, slots=True)
class Listing:
    """One volunteer as the console lists and exports them: a volunteer, or an entry of the
    list still waiting for its WeChat account (openid None)."""

    openid: str | None
    name: str
    phone: str | None
    skills: str
    availability: str
    street: str | None
    community: str | None
    compound: str | None
    building: str | None
    # An entry waiting for its account has none of these yet: it has not been offered a task.
    active: bool = True
    paused: bool = False
    minutes_credited: int = 0
    tasks_completed: int = 0
    rating_sum: int = 0
    rating_count: int = 0


def _placed_in(query: Any, compound_id: Any) -> Any:
    return (
        query.outerjoin(Compound, col(Compound.id) == compound_id)
        .outerjoin(Community, col(Community.id) == Compound.community_id)
        .outerjoin(Street, col(Street.id) == Community.street_id)
    )


async def listings(
    *, session: AsyncSession, where: ColumnElement[bool], listed_where: ColumnElement[bool]
) -> list[Listing]:
    """The volunteers inside `where` (a condition on Volunteer's compound) and the unbound
    list entries inside `listed_where` (on RosterEntry's), by compound and name."""
    places = (col(Street.name), col(Community.name), col(Compound.name))
    helpers = select(
        col(User.openid),
        col(Volunteer.name),
        col(Volunteer.phone),
        col(Volunteer.skills),
        col(Volunteer.availability),
        *places,
        col(Volunteer.building),
        col(Volunteer.active),
        col(Volunteer.paused),
        col(Volunteer.minutes_credited),
        col(Volunteer.tasks_completed),
        col(Volunteer.rating_sum),
        col(Volunteer.rating_count),
    ).join(User, col(User.id) == Volunteer.user_id)
    listed = select(
        col(RosterEntry.name),
        col(RosterEntry.phone),
        col(RosterEntry.skills),
        col(RosterEntry.availability),
        *places,
        col(RosterEntry.building),
    ).where(col(RosterEntry.volunteer_id).is_(None), listed_where)
    found = [
        Listing(*row)
        for row in await session.execute(_placed_in(helpers, Volunteer.compound_id).where(where))
    ]
    found += [
        Listing(None, *row)
        for row in await session.execute(_placed_in(listed, RosterEntry.compound_id))
    ]
    return sorted(found, key=lambda v: (v.compound or "", v.name))
