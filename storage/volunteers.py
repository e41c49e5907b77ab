"""Volunteers: who can help, where, when, and how much they already carry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.availability import is_available
from storage.errors import NotFound
from storage.models import Community, Compound, HelpRequest, Status, User, Volunteer
from storage.org import Place

TIERS = ("compound", "community", "street")


async def find(*, session: AsyncSession, user_id: int | None) -> Volunteer | None:
    """The volunteer record of a user, if they are one."""
    if user_id is None:
        return None
    return (
        await session.execute(select(Volunteer).where(col(Volunteer.user_id) == user_id))
    ).scalar_one_or_none()


async def get(*, session: AsyncSession, volunteer_id: int) -> Volunteer:
    """The volunteer with this id."""
    volunteer = await session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound(f"no volunteer {volunteer_id}")
    return volunteer


async def by_name(
    *, session: AsyncSession, name: str, where: ColumnElement[bool] | None = None
) -> list[Volunteer]:
    """Active volunteers called `name` (exactly, else those whose name contains it), among
    those where `where` holds (a worker's scope)."""
    active = select(Volunteer).where(col(Volunteer.active))
    if where is not None:
        active = active.where(where)
    exact = list(await session.scalars(active.where(col(Volunteer.name) == name)))
    if exact:
        return exact
    return list(await session.scalars(active.where(col(Volunteer.name).contains(name))))


async def openid_of(*, session: AsyncSession, volunteer_id: int) -> str:
    """The openid to message a volunteer at."""
    found = await session.scalar(
        select(col(User.openid))
        .join(Volunteer, col(Volunteer.user_id) == User.id)
        .where(col(Volunteer.id) == volunteer_id)
    )
    if found is None:
        raise NotFound(f"no volunteer {volunteer_id}")
    return str(found)


async def sign_up(
    *,
    session: AsyncSession,
    user: User,
    name: str,
    phone: str | None,
    skills: Sequence[str],
    compound_id: int | None,
    building: str | None,
    availability: Sequence[str],
    task_limit: int,
) -> Volunteer:
    """Make `user` a volunteer (or update their record if they already are one)."""
    assert user.id is not None
    volunteer = await find(session=session, user_id=user.id) or Volunteer(
        user_id=user.id, name=name, task_limit=task_limit
    )
    volunteer.name = name
    volunteer.phone = phone
    volunteer.skills = "|".join(skills)
    volunteer.compound_id = compound_id
    volunteer.building = building
    volunteer.availability = "|".join(availability)
    volunteer.active = True
    session.add(volunteer)
    await session.flush()
    return volunteer


async def open_tasks(*, session: AsyncSession, volunteer_ids: Sequence[int]) -> dict[int, int]:
    """How many accepted, unfinished tasks each of these volunteers has."""
    if not volunteer_ids:
        return {}
    rows = await session.execute(
        select(col(HelpRequest.volunteer_id), func.count())
        .where(
            col(HelpRequest.volunteer_id).in_(volunteer_ids),
            col(HelpRequest.status) == Status.ACCEPTED,
        )
        .group_by(col(HelpRequest.volunteer_id))
    )
    return {int(vid): int(n) for vid, n in rows.all()}


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    user: User  # whose 48-hour window decides whether an offer reaches them now
    tier: int  # 0 the request's compound, 1 its community, 2 its street
    open_tasks: int
    same_building: bool

    @property
    def rating(self) -> float:
        v = self.volunteer
        return v.rating_sum / v.rating_count if v.rating_count else 0.0


async def candidates(
    *,
    session: AsyncSession,
    category: str,
    place: Place,
    building: str | None,
    local_at: datetime,
    has_time: bool,
    exclude: Sequence[int] = (),
) -> list[Candidate]:
    """Volunteers who could take a request, nearest tier first and best first within a tier."""
    rows = await session.execute(
        select(Volunteer, User, col(Compound.community_id))
        .join(User, col(Volunteer.user_id) == User.id)
        .join(Compound, col(Volunteer.compound_id) == Compound.id)
        .join(Community, col(Compound.community_id) == Community.id)
        .where(
            col(Community.street_id) == place.street_id,
            col(Volunteer.active),
            ~col(Volunteer.paused),
        )
    )
    pool = [
        (v, user, community_id)
        for v, user, community_id in rows.all()
        if v.id not in exclude
        and category in v.skills.split("|")
        and is_available(v.availability.split("|"), local_at, has_time)
    ]
    loads = await open_tasks(session=session, volunteer_ids=[v.id for v, _, _ in pool if v.id])
    found = []
    for volunteer, user, community_id in pool:
        load = loads.get(volunteer.id or 0, 0)
        if load >= volunteer.task_limit:
            continue
        if volunteer.compound_id == place.compound_id:
            tier = 0
        elif community_id == place.community_id:
            tier = 1
        else:
            tier = 2
        same = tier == 0 and building is not None and volunteer.building == building
        found.append(Candidate(volunteer, user, tier, load, same))
    found.sort(key=_rank_key)
    return found


def _rank_key(candidate: Candidate) -> tuple[int, bool, int, float, float]:
    # Nearest tier, then same building, then fewer open tasks, then least recently tasked
    # (never tasked comes first), then better rating.
    last = candidate.volunteer.last_tasked_at
    return (
        candidate.tier,
        not candidate.same_building,
        candidate.open_tasks,
        last.timestamp() if last else 0.0,
        -candidate.rating,
    )


async def set_paused(*, session: AsyncSession, volunteer: Volunteer, paused: bool) -> None:
    """Stop or resume receiving offers."""
    volunteer.paused = paused
    session.add(volunteer)


async def mark_tasked(*, session: AsyncSession, volunteer_id: int, at: datetime) -> None:
    """Remember when this volunteer was last given a task (fair rotation)."""
    await _change(session, volunteer_id, last_tasked_at=at)


async def credit(*, session: AsyncSession, volunteer_id: int, minutes: int) -> None:
    """Credit a completed task's hours."""
    await _change(
        session,
        volunteer_id,
        minutes_credited=col(Volunteer.minutes_credited) + minutes,
        tasks_completed=col(Volunteer.tasks_completed) + 1,
    )


async def rate(*, session: AsyncSession, volunteer_id: int, score: int) -> None:
    """Add a resident's score to the volunteer's record."""
    await _change(
        session,
        volunteer_id,
        rating_sum=col(Volunteer.rating_sum) + score,
        rating_count=col(Volunteer.rating_count) + 1,
    )


async def _change(session: AsyncSession, volunteer_id: int, **values: Any) -> None:
    # In SQL, not on a loaded object: counters add up right whoever else changed the row.
    await session.execute(
        update(Volunteer).where(col(Volunteer.id) == volunteer_id).values(**values)
    )


async def count_active(
    *, session: AsyncSession, where: ColumnElement[bool] | None = None
) -> tuple[int, int]:
    """How many volunteers are active, and how many of them are paused."""
    query = select(func.count(), func.count().filter(col(Volunteer.paused))).where(
        col(Volunteer.active)
    )
    row = (await session.execute(query if where is None else query.where(where))).one()
    return int(row[0]), int(row[1])
