"""Volunteers: who can help, where, when, and how much they already carry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.availability import is_available
from storage.errors import NotFound
from storage.models import (
    Community,
    Compound,
    HelpRequest,
    Offer,
    OutboxMessage,
    Status,
    User,
    Volunteer,
)
from storage.org import Place
from storage.sql import plain_rows

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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A volunteer who could take a request, with what routing weighs and what decides
    whether a message reaches them now (storage/reach.py)."""

    volunteer_id: int
    openid: str
    tier: int  # 0 the request's compound, 1 its community, 2 its street
    open_tasks: int
    same_building: bool
    last_tasked_at: datetime | None
    rating: float
    subscribed: bool
    last_interaction_at: datetime | None
    last_interaction_kind: str | None
    cs_sent_since_interaction: int
    waiting: int  # messages queued for them and not yet sent (0 unless asked for)


_ACCEPTED_LOAD = (
    select(func.count())
    .where(
        col(HelpRequest.volunteer_id) == col(Volunteer.id),
        col(HelpRequest.status) == Status.ACCEPTED,
    )
    .correlate(Volunteer)
    .scalar_subquery()
)
_WAITING = (
    select(func.count())
    .where(
        col(OutboxMessage.openid) == col(User.openid),
        col(OutboxMessage.status).in_(("pending", "sending")),
    )
    .correlate(User)
    .scalar_subquery()
)


async def candidates(
    *,
    session: AsyncSession,
    category: str,
    place: Place,
    building: str | None,
    local_at: datetime,
    has_time: bool,
    not_asked_for: int | None = None,
    count_waiting: bool = False,
) -> list[Candidate]:
    """Volunteers who could take a request, nearest tier first and best first within a tier.

    One statement: skills, load and (with `not_asked_for`, a request's number) the offers
    already made are decided in SQL; `count_waiting` adds each one's queued messages."""
    query = _candidates_statement(not_asked_for is not None, count_waiting)
    params = {"street_id": place.street_id, "skill": f"|{category}|", "request_id": not_asked_for}
    found = []
    for (
        vid,
        compound_id,
        own_building,
        availability,
        last,
        rating_sum,
        rating_count,
        openid,
        subscribed,
        interaction_at,
        interaction_kind,
        cs_sent,
        community_id,
        load,
        waiting,
    ) in await plain_rows(session, query, params):
        if not is_available(availability.split("|"), local_at, has_time):
            continue
        if compound_id == place.compound_id:
            tier = 0
        elif community_id == place.community_id:
            tier = 1
        else:
            tier = 2
        found.append(
            Candidate(
                volunteer_id=vid,
                openid=openid,
                tier=tier,
                open_tasks=load,
                same_building=tier == 0 and building is not None and own_building == building,
                last_tasked_at=last,
                rating=rating_sum / rating_count if rating_count else 0.0,
                subscribed=subscribed,
                last_interaction_at=interaction_at,
                last_interaction_kind=interaction_kind,
                cs_sent_since_interaction=cs_sent,
                waiting=waiting,
            )
        )
    found.sort(key=_rank_key)
    return found


@cache
def _candidates_statement(asked: bool, waiting: bool) -> Any:
    # Built once for each shape: a statement this size costs more to build than to run.
    skilled = (literal("|") + col(Volunteer.skills) + literal("|")).contains(bindparam("skill"))
    query = (
        select(
            col(Volunteer.id),
            col(Volunteer.compound_id),
            col(Volunteer.building),
            col(Volunteer.availability),
            col(Volunteer.last_tasked_at),
            col(Volunteer.rating_sum),
            col(Volunteer.rating_count),
            col(User.openid),
            col(User.subscribed),
            col(User.last_interaction_at),
            col(User.last_interaction_kind),
            col(User.cs_sent_since_interaction),
            col(Compound.community_id),
            _ACCEPTED_LOAD,
            _WAITING if waiting else literal(0),
        )
        .join(User, col(Volunteer.user_id) == User.id)
        .join(Compound, col(Volunteer.compound_id) == Compound.id)
        .join(Community, col(Compound.community_id) == Community.id)
        .where(
            col(Community.street_id) == bindparam("street_id"),
            col(Volunteer.active),
            ~col(Volunteer.paused),
            skilled,
            col(Volunteer.task_limit) > _ACCEPTED_LOAD,
        )
    )
    if asked:
        # Offers not to make again: asked and still deciding, or who said no (or took it).
        query = query.where(
            ~exists().where(
                col(Offer.request_id) == bindparam("request_id"),
                col(Offer.volunteer_id) == col(Volunteer.id),
                or_(
                    col(Offer.outcome).is_(None),
                    col(Offer.outcome).in_(("declined", "accepted")),
                ),
            )
        )
    return query


def _rank_key(candidate: Candidate) -> tuple[int, bool, int, float, float]:
    # Nearest tier, then same building, then fewer open tasks, then least recently tasked
    # (never tasked comes first), then better rating.
    last = candidate.last_tasked_at
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
