"""The volunteer roster coming in from a file and the requests going out to one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.db import Database
from storage.models import Community, Compound, HelpRequest, Street, User, Volunteer
from storage.org import Place
from storage.sql import insert_for

_USER = cast(Table, User.__table__)  # type: ignore[attr-defined]
_VOLUNTEER = cast(Table, Volunteer.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class VolunteerData:
    """One volunteer as a roster file gives them, already validated."""

    openid: str
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


async def upsert_volunteers(
    *,
    session: AsyncSession,
    volunteers: Sequence[tuple[VolunteerData, Place]],
    task_limit: int,
) -> int:
    """Create or update each volunteer (and their user) by openid; how many were new.

    The openids must be distinct. New volunteers are active, not paused, with `task_limit`.
    """
    created = 0
    for start in range(0, len(volunteers), BATCH):
        created += await _upsert_batch(session, volunteers[start : start + BATCH], task_limit)
    return created


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
    openids = [data.openid for data, _ in batch]
    user_ids: dict[str, int] = {
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
                "name": data.name,
                "phone": data.phone,
                "skills": "|".join(data.skills),
                "compound_id": place.compound_id,
                "building": data.building,
                "availability": "|".join(data.availability),
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
class RosterEntry:
    """One volunteer as the console lists and exports them."""

    openid: str
    name: str
    phone: str | None
    skills: str
    availability: str
    street: str | None
    community: str | None
    compound: str | None
    building: str | None
    active: bool
    paused: bool
    minutes_credited: int
    tasks_completed: int
    rating_sum: int
    rating_count: int


async def entries(*, session: AsyncSession, where: ColumnElement[bool]) -> list[RosterEntry]:
    """The volunteers inside `where` (a condition on Volunteer's compound), by place and name."""
    query = (
        select(
            col(User.openid),
            col(Volunteer.name),
            col(Volunteer.phone),
            col(Volunteer.skills),
            col(Volunteer.availability),
            col(Street.name),
            col(Community.name),
            col(Compound.name),
            col(Volunteer.building),
            col(Volunteer.active),
            col(Volunteer.paused),
            col(Volunteer.minutes_credited),
            col(Volunteer.tasks_completed),
            col(Volunteer.rating_sum),
            col(Volunteer.rating_count),
        )
        .join(User, col(User.id) == Volunteer.user_id)
        .outerjoin(Compound, col(Compound.id) == Volunteer.compound_id)
        .outerjoin(Community, col(Community.id) == Compound.community_id)
        .outerjoin(Street, col(Street.id) == Community.street_id)
        .where(where)
        .order_by(col(Compound.name), col(Volunteer.name), col(Volunteer.id))
    )
    return [RosterEntry(*row) for row in await session.execute(query)]
