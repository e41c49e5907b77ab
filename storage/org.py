"""The organisation: street → community → compound → building."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, exists, insert, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.errors import Conflict
from storage.models import Building, Community, Compound, CompoundAlias, PlaceVersion, Street
from storage.sql import Executor

# A compound's QR code carries this scene (WeChat allows 64 characters).
SCENE_PREFIX = "compound:"
_VERSION = select(col(PlaceVersion.version)).where(col(PlaceVersion.id) == 1)
# A compound with its community and street, in Place's order.
_PLACE = (
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
)
# Every name of a compound (its own and its aliases) containing :name, with the place.
_NAMES = union_all(
    select(col(Compound.id).label("compound_id"), col(Compound.name).label("name")),
    select(col(CompoundAlias.compound_id), col(CompoundAlias.name)),
).subquery("names")
_FIND = (
    _PLACE.join(_NAMES, _NAMES.c.compound_id == Compound.id)
    .add_columns(_NAMES.c.name)
    .where(_NAMES.c.name.contains(bindparam("name"), escape="/"))
)
# Not ON CONFLICT: SQLAlchemy 2.0 compiles that on every execution. On PostgreSQL two
# residents naming the same new building at once make one batch fail its unique key and be
# retried message by message (bot/dispatch/dispatcher.py), which then finds the building.
_BUILDINGS = cast(Table, Building.__table__)  # type: ignore[attr-defined]
_NEW_BUILDING = insert(_BUILDINGS).from_select(
    ["compound_id", "name"],
    select(
        bindparam("compound_id", type_=_BUILDINGS.c.compound_id.type),
        bindparam("name", type_=_BUILDINGS.c.name.type),
    ).where(
        ~exists().where(
            _BUILDINGS.c.compound_id == bindparam("compound_id"),
            _BUILDINGS.c.name == bindparam("name"),
        )
    ),
)


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
    """The building exists under the compound (one statement: an insert that a building
    already there turns into nothing)."""
    await session.execute(_NEW_BUILDING, {"compound_id": compound_id, "name": building})


async def compound_names(*, session: Executor) -> list[str]:
    """Every compound's name and alias (for the parser's dictionary)."""
    names = await session.execute(select(col(Compound.name)).distinct())
    aliases = await session.execute(select(col(CompoundAlias.name)))
    return [*names.scalars(), *aliases.scalars()]


async def places_version(*, session: Executor) -> int:
    """A number that changes whenever a compound or alias does (see PlaceVersion)."""
    return int((await session.execute(_VERSION)).scalar() or 0)


async def add_aliases(*, session: AsyncSession, compound_id: int, names: list[str]) -> None:
    """Give the compound these other names; a name that is another compound's is a Conflict."""
    owners: dict[str, dict[int, str]] = {}
    for name, place in await named_places(session=session):
        owners.setdefault(name, {})[place.compound_id] = place.compound
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    for name in wanted:  # all checked before any is added: a Conflict adds none
        others = [owner for cid, owner in owners.get(name, {}).items() if cid != compound_id]
        if others:
            raise Conflict(f'alias "{name}" already names the compound {others[0]}')
    for name in wanted:
        if compound_id not in owners.get(name, {}):
            session.add(CompoundAlias(compound_id=compound_id, name=name))
    await session.flush()


async def named_places(*, session: Executor) -> list[tuple[str, Place]]:
    """Every name people may use for a compound (its own and its aliases) with the place."""
    known = {place.compound_id: place for place in await places(session=session)}
    aliases = await session.execute(select(col(CompoundAlias.name), col(CompoundAlias.compound_id)))
    named = [(place.compound, place) for place in known.values()]
    return named + [(name, known[cid]) for name, cid in aliases if cid in known]


async def places(*, session: Executor, compound_id: int | None = None) -> list[Place]:
    """Every compound (or just one) with its community and street."""
    query = _PLACE.order_by(col(Compound.id))
    if compound_id is not None:
        query = query.where(col(Compound.id) == compound_id)
    return [Place(*row) for row in await session.execute(query)]


async def place_of(*, session: AsyncSession, compound_id: int) -> Place | None:
    """The place of one compound."""
    found = await places(session=session, compound_id=compound_id)
    return found[0] if found else None


async def find_compound(*, session: AsyncSession, name: str) -> Place | None:
    """The compound called `name` (by its name or an alias, else the only one whose name
    contains it), read in one statement."""
    if not name:
        return None
    escaped = name.replace("/", "//").replace("%", "/%").replace("_", "/_")
    rows = await session.execute(_FIND, {"name": escaped})
    # The query keeps the names containing it; the choice among them is pick_compound's.
    return pick_compound([(called, Place(*fields)) for *fields, called in rows], name)


def pick_compound(named: Iterable[tuple[str, Place]], name: str) -> Place | None:
    """The compound called `name` among these names (every name, as named_places reads, or
    those find_compound's query found): by its name or an alias, else the only one whose
    name contains it."""
    if not name:
        return None
    exact: dict[int, Place] = {}
    within: dict[int, Place] = {}
    # LIKE, as find_compound matches, ignores the case of ASCII letters on SQLite.
    folded = name.casefold()
    for called, place in named:
        if called == name:
            exact[place.compound_id] = place
        elif folded in called.casefold():
            within[place.compound_id] = place
    found = exact or within
    return next(iter(found.values())) if len(found) == 1 else None


def compound_scene(compound_id: int) -> str:
    """The scene_str of the compound's QR code."""
    return f"{SCENE_PREFIX}{compound_id}"


def scene_compound(event_key: str | None) -> int | None:
    """The compound a QR scan names: EventKey "qrscene_compound:7" (a new follower's subscribe)
    or "compound:7" (a follower's SCAN); None for any other key."""
    scene = (event_key or "").removeprefix("qrscene_")
    number = scene.removeprefix(SCENE_PREFIX)
    if number == scene or not number.isdigit() or not number.isascii():
        return None
    return int(number)
