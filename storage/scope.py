"""Whose data a community worker may see: a community, a whole street, or (duty workers of
`[admin] openids`) everything; as SQL conditions any query can add."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Community, Compound


@dataclass(frozen=True)
class Scope:
    """A street, one community of it, or neither (everything)."""

    street_id: int | None = None
    community_id: int | None = None

    @property
    def everything(self) -> bool:
        return self.street_id is None and self.community_id is None


EVERYTHING = Scope()
NOWHERE = Scope(street_id=0, community_id=0)  # ids start at 1: no row is inside


async def first_compound(*, session: AsyncSession) -> tuple[int, int, int] | None:
    """The first compound's (id, community id, street id): where routing places a request
    without a compound, so such a request belongs to that community's workers too."""
    row = (
        await session.execute(
            select(col(Compound.id), col(Compound.community_id), col(Community.street_id))
            .join(Community, col(Compound.community_id) == Community.id)
            .order_by(col(Compound.id))
            .limit(1)
        )
    ).one_or_none()
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


def covers(scope: Scope, community_id: int, street_id: int) -> bool:
    """Whether `scope` includes this community of this street."""
    if scope.community_id is not None:
        return scope.community_id == community_id
    return scope.street_id is None or scope.street_id == street_id


async def where_placed(*, session: AsyncSession, scope: Scope, column: Any) -> ColumnElement[bool]:
    """A condition on a compound-id column (of requests, volunteers, users): inside `scope`.

    A row without a compound is inside when the first compound is (see first_compound)."""
    if scope.everything:
        return true()
    compounds = select(col(Compound.id)).join(Community, col(Compound.community_id) == Community.id)
    if scope.community_id is not None:
        compounds = compounds.where(col(Compound.community_id) == scope.community_id)
    else:
        compounds = compounds.where(col(Community.street_id) == scope.street_id)
    inside = col(column).in_(compounds)
    first = await first_compound(session=session)
    if first is not None and covers(scope, first[1], first[2]):
        return or_(inside, col(column).is_(None))
    return inside


async def holds(*, session: AsyncSession, scope: Scope, compound_id: int | None) -> bool:
    """Whether a row placed in `compound_id` (or nowhere) is inside `scope`."""
    if scope.everything:
        return True
    community = await community_of(session=session, compound_id=compound_id)
    if community is None:
        return False
    return covers(scope, community[0], community[1])


async def community_of(*, session: AsyncSession, compound_id: int | None) -> tuple[int, int] | None:
    """The (community id, street id) a compound (or, for None, the first compound) is in."""
    if compound_id is None:
        first = await first_compound(session=session)
        return (first[1], first[2]) if first else None
    row = (
        await session.execute(
            select(col(Compound.community_id), col(Community.street_id))
            .join(Community, col(Compound.community_id) == Community.id)
            .where(col(Compound.id) == compound_id)
        )
    ).one_or_none()
    return (int(row[0]), int(row[1])) if row else None


async def community_ids(*, session: AsyncSession, scope: Scope) -> list[int] | None:
    """The communities inside `scope`; None for everything."""
    if scope.everything:
        return None
    if scope.community_id is not None:
        return [scope.community_id]
    rows = await session.scalars(
        select(col(Community.id)).where(col(Community.street_id) == scope.street_id)
    )
    return [int(n) for n in rows if n is not None]
