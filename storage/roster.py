"""The volunteer roster coming in from a file and the requests going out to one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.db import Database
from storage.models import Compound, HelpRequest, User, Volunteer
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


async def upsert_volunteer(
    *, session: AsyncSession, data: VolunteerData, place: Place, task_limit: int
) -> bool:
    """Create or update the volunteer with this openid (and their user); True when created."""
    user_id = await _upsert_user(session, data, place)
    existing = await session.scalar(
        select(col(Volunteer.id)).where(col(Volunteer.user_id) == user_id)
    )
    values: dict[str, Any] = {
        "name": data.name,
        "phone": data.phone,
        "skills": "|".join(data.skills),
        "compound_id": place.compound_id,
        "building": data.building,
        "availability": "|".join(data.availability),
        "active": True,
    }
    # A volunteer's own pause and a limit set for them survive a re-import; only the
    # roster's fields are the file's to change.
    statement = (
        insert_for(session, _VOLUNTEER)
        .values(user_id=user_id, task_limit=task_limit, paused=False, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )
    await session.execute(statement)
    return existing is None


async def _upsert_user(session: AsyncSession, data: VolunteerData, place: Place) -> int:
    insert = insert_for(session, _USER).values(
        openid=data.openid,
        name=data.name,
        phone=data.phone,
        compound_id=place.compound_id,
        building=data.building,
    )
    # What the person told the bot themselves wins over the roster: fill only the blanks.
    keep = {
        name: func.coalesce(_USER.c[name], insert.excluded[name])
        for name in ("name", "phone", "compound_id", "building")
    }
    statement = insert.on_conflict_do_update(index_elements=["openid"], set_=keep).returning(
        _USER.c.id
    )
    return int((await session.execute(statement)).scalar_one())


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
