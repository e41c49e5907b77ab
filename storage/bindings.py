"""Binding a listed volunteer (a roster entry without an openid) to the WeChat account of the
person who says, with the same phone, that it is them: pending until a worker approves."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.errors import Conflict, NotFound
from storage.models import Binding, BindingStatus, Compound, RosterEntry, User, Volunteer
from storage.sql import affected

PENDING = BindingStatus.PENDING
# A binding, its entry, the claimant's openid, the entry's community, the claimant's name and
# the entry's compound: what a worker deciding on a claim is shown.
_ClaimRow = tuple[Binding, RosterEntry, str, int, str | None, str]


@dataclass(frozen=True)
class Claim:
    """A binding with what a worker needs to decide on it, and whom to tell."""

    number: int
    status: str
    openid: str  # the person who asked
    entry: RosterEntry
    community_id: int
    claimant: str | None = None  # the name the person gave the account, if any
    asked_at: datetime | None = None
    compound: str = ""  # the entry's


async def unbound_by_phone(*, session: AsyncSession, phone: str) -> RosterEntry | None:
    """The listed volunteer with this phone who has no WeChat account yet."""
    found = await session.execute(
        select(RosterEntry).where(
            col(RosterEntry.phone) == phone, col(RosterEntry.volunteer_id).is_(None)
        )
    )
    return found.scalar_one_or_none()


async def any_unbound(*, session: AsyncSession) -> bool:
    """Whether any listed volunteer still waits for their WeChat account."""
    found = await session.execute(
        select(col(RosterEntry.id)).where(col(RosterEntry.volunteer_id).is_(None)).limit(1)
    )
    return found.first() is not None


async def request(*, session: AsyncSession, user_id: int, entry_id: int) -> Binding:
    """The user's pending claim to the entry (an earlier claim of theirs is withdrawn)."""
    mine = await pending_of(session=session, user_id=user_id)
    if mine is not None and mine.entry_id == entry_id:
        return mine
    await session.execute(
        update(Binding)
        .where(col(Binding.user_id) == user_id, col(Binding.status) == PENDING)
        .values(status=BindingStatus.WITHDRAWN)
    )
    binding = Binding(entry_id=entry_id, user_id=user_id)
    session.add(binding)
    await session.flush()
    return binding


async def pending_of(*, session: AsyncSession, user_id: int | None) -> Binding | None:
    """The user's claim still waiting for a worker, if any."""
    found = await session.execute(
        select(Binding)
        .where(col(Binding.user_id) == user_id, col(Binding.status) == PENDING)
        .order_by(col(Binding.id).desc())
        .limit(1)
    )
    return found.scalar_one_or_none()


async def claim(
    *,
    session: AsyncSession,
    number: int,
    community_ids: Collection[int] | None = None,
    lock: bool = False,
) -> Claim:
    """Binding #number with its entry; NotFound outside the worker's communities (if given).

    With `lock`, the binding and entry rows are held (PostgreSQL; SQLite's transactions are
    serial) so what is read about them still holds when they are written.
    """
    query = _claims().where(col(Binding.id) == number)
    if lock:
        # The entry first, on its own: every claim to it queues there, before holding its
        # binding row, which approving another claim must update (withdraw) without deadlock.
        entry_id = select(col(Binding.entry_id)).where(col(Binding.id) == number)
        await session.execute(
            select(col(RosterEntry.id))
            .where(col(RosterEntry.id) == entry_id.scalar_subquery())
            .with_for_update()
        )
        query = query.with_for_update(of=Binding).execution_options(populate_existing=True)
    row = (await session.execute(query)).first()
    if row is None or (community_ids is not None and row[3] not in community_ids):
        raise NotFound(f"no binding #{number}")
    return _claim_of(row)


async def pending(
    *, session: AsyncSession, community_ids: Collection[int] | None = None
) -> list[Claim]:
    """Claims waiting for a worker, oldest first (all, or those of these communities)."""
    query = _claims().where(col(Binding.status) == PENDING).order_by(col(Binding.id))
    if community_ids is not None:
        query = query.where(col(Compound.community_id).in_(community_ids))
    return [_claim_of(row) for row in await session.execute(query)]


def _claims() -> Select[_ClaimRow]:
    """Bindings with what a worker is shown of them (a _ClaimRow each)."""
    return (
        select(
            Binding,
            RosterEntry,
            col(User.openid),
            col(Compound.community_id),
            col(User.name),
            col(Compound.name),
        )
        .join(RosterEntry, col(RosterEntry.id) == Binding.entry_id)
        .join(User, col(User.id) == Binding.user_id)
        .join(Compound, col(Compound.id) == RosterEntry.compound_id)
    )


def _claim_of(row: Row[_ClaimRow]) -> Claim:
    binding, entry, openid, community_id, claimant, compound = row
    assert binding.id is not None
    return Claim(
        binding.id,
        binding.status,
        openid,
        entry,
        community_id,
        claimant,
        binding.created_at,
        compound,
    )


async def approve(
    *,
    session: AsyncSession,
    number: int,
    actor: str,
    at: datetime,
    task_limit: int,
    community_ids: Collection[int] | None = None,
) -> tuple[Claim, Volunteer, list[str]]:
    """Approve binding #number: the person becomes the listed volunteer (their own volunteer
    record, if they had one, takes the list's details). Returns the claim, the volunteer and
    the openids of others who claimed the same entry (their claims are withdrawn).

    Conflict, before anything is written, when it was decided already or the entry is bound;
    the rows are locked meanwhile, so two workers approving at once bind one account, once.
    """
    found = await claim(session=session, number=number, community_ids=community_ids, lock=True)
    if found.status != PENDING:
        raise Conflict(f"binding #{number} was {found.status} already")
    if found.entry.volunteer_id is not None:
        raise Conflict(f"the listed volunteer of binding #{number} is bound already")
    await _decide(session, found, BindingStatus.APPROVED, actor, at)
    entry, user = found.entry, await _user_of(session, number)
    assert user.id is not None
    volunteer = (
        await session.execute(select(Volunteer).where(col(Volunteer.user_id) == user.id))
    ).scalar_one_or_none() or Volunteer(user_id=user.id, name=entry.name, task_limit=task_limit)
    volunteer.name, volunteer.phone, volunteer.skills = entry.name, entry.phone, entry.skills
    volunteer.compound_id, volunteer.building = entry.compound_id, entry.building
    volunteer.availability, volunteer.active = entry.availability, True
    session.add(volunteer)
    await session.flush()
    bound = update(RosterEntry).where(
        col(RosterEntry.id) == entry.id, col(RosterEntry.volunteer_id).is_(None)
    )
    if await affected(session, bound.values(volunteer_id=volunteer.id, bound_at=at)) != 1:
        raise Conflict(f"the listed volunteer of binding #{number} is bound already")
    user.name = user.name or entry.name
    user.phone = user.phone or entry.phone
    if user.compound_id is None:
        user.compound_id, user.building = entry.compound_id, entry.building
    session.add(user)
    others = await withdraw_claims(session=session, entry_ids=[entry.id or 0])
    return found, volunteer, others


async def reject(
    *,
    session: AsyncSession,
    number: int,
    actor: str,
    at: datetime,
    community_ids: Collection[int] | None = None,
) -> Claim:
    """Refuse binding #number (Conflict, writing nothing, when it was decided already)."""
    found = await claim(session=session, number=number, community_ids=community_ids, lock=True)
    if found.status != PENDING:
        raise Conflict(f"binding #{number} was {found.status} already")
    await _decide(session, found, BindingStatus.REJECTED, actor, at)
    return found


async def withdraw_claims(*, session: AsyncSession, entry_ids: Collection[int]) -> list[str]:
    """Withdraw the pending claims to these entries (bound now); the claimants' openids."""
    if not entry_ids:
        return []
    claimants = await session.scalars(
        select(col(User.openid))
        .join(Binding, col(Binding.user_id) == User.id)
        .where(col(Binding.entry_id).in_(entry_ids), col(Binding.status) == PENDING)
    )
    openids = list(claimants)
    await session.execute(
        update(Binding)
        .where(col(Binding.entry_id).in_(entry_ids), col(Binding.status) == PENDING)
        .values(status=BindingStatus.WITHDRAWN)
    )
    return openids


async def _decide(
    session: AsyncSession, found: Claim, status: BindingStatus, actor: str, at: datetime
) -> None:
    decided = (
        update(Binding)
        .where(col(Binding.id) == found.number, col(Binding.status) == PENDING)
        .values(status=status, decided_at=at, decided_by=actor)
    )
    if await affected(session, decided) != 1:
        raise Conflict(f"binding #{found.number} was decided already")


async def _user_of(session: AsyncSession, number: int) -> User:
    user = (
        await session.execute(
            select(User)
            .join(Binding, col(Binding.user_id) == User.id)
            .where(col(Binding.id) == number)
        )
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no binding #{number}")
    return user
