"""The organisation: street → community → compound → building."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Building, Community, Compound, Street


@dataclass(frozen=True)
class Place:
    """Where a compound sits: the ids and names of its community and street."""

    compound_id: int
    compound: str
    community_id: int
    community: str
    street_id: int
    street: str


async def _get_or_create(session: AsyncSession, model: type, **values: object) -> int:
    conditions = [col(getattr(model, name)) == value for name, value in values.items()]
    found = (await session.execute(select(col(model.id)).where(*conditions))).scalar_one_or_none()  # type: ignore[attr-defined]
    if found is not None:
        return int(found)
    row = model(**values)
    session.add(row)
    await session.flush()
    return int(row.id)


async def ensure_place(
    *,
    session: AsyncSession,
    street: str,
    community: str,
    compound: str,
    building: str | None = None,
) -> Place:
    """The compound (and building) under that community and street, created when new."""
    street_id = await _get_or_create(session, Street, name=street)
    community_id = await _get_or_create(session, Community, street_id=street_id, name=community)
    compound_id = await _get_or_create(session, Compound, community_id=community_id, name=compound)
    if building:
        await _get_or_create(session, Building, compound_id=compound_id, name=building)
    return Place(compound_id, compound, community_id, community, street_id, street)


async def ensure_street(*, session: AsyncSession, street: str, community: str) -> None:
    """The street and community exist (for a configuration without compounds)."""
    street_id = await _get_or_create(session, Street, name=street)
    await _get_or_create(session, Community, street_id=street_id, name=community)


async def ensure_building(*, session: AsyncSession, compound_id: int, building: str) -> None:
    """The building exists under the compound."""
    await _get_or_create(session, Building, compound_id=compound_id, name=building)


async def compound_names(*, session: AsyncSession) -> list[str]:
    """Every compound's name (for the parser's dictionary)."""
    return list((await session.execute(select(col(Compound.name)).distinct())).scalars())


async def places(*, session: AsyncSession, compound_id: int | None = None) -> list[Place]:
    """Every compound (or just one) with its community and street."""
    query = (
        select(
            col(Compound.id),
            col(Compound.name),
            col(Community.id),
            col(Community.name),
            col(Street.id),
            col(Street.name),
        )
        .join(Community, col(Compound.community_id) == Community.id)
        .join(Street, col(Community.street_id) == Street.id)
        .order_by(col(Compound.id))
    )
    if compound_id is not None:
        query = query.where(col(Compound.id) == compound_id)
    return [Place(*row) for row in await session.execute(query)]


async def place_of(*, session: AsyncSession, compound_id: int) -> Place | None:
    """The place of one compound."""
    found = await places(session=session, compound_id=compound_id)
    return found[0] if found else None


async def find_compound(*, session: AsyncSession, name: str) -> Place | None:
    """The compound called `name` (exact, or the only one whose name contains it)."""
    known = await places(session=session)
    found = [p for p in known if p.compound == name]
    if not found:
        found = [p for p in known if name and name in p.compound]
    return found[0] if len(found) == 1 else None
