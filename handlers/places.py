"""Where a request is: the compound and building, from the message or what we remember."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.context import Ctx
from nlp import Parse
from storage import org
from storage.models import User
from storage.org import Place

_BARE_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")


@dataclass
class Location:
    """A request's place as far as it is known, and what is still missing."""

    place: Place | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    missing: list[str] = field(default_factory=list)


async def compound_named(ctx: Ctx, name: str | None) -> Place | None:
    """The known compound with that name."""
    if not name:
        return None
    return await org.find_compound(session=ctx.session, name=name)


async def only_compound(ctx: Ctx) -> Place | None:
    """The compound when exactly one is configured (or, without any configured, known): then
    nobody is asked for it, whatever compounds an import of volunteers brought along."""
    configured = ctx.config.org.compounds
    if len(configured) == 1:
        return await org.find_compound(session=ctx.session, name=configured[0])
    if configured:
        return None
    known = await org.places(session=ctx.session)
    return known[0] if len(known) == 1 else None


async def locate(ctx: Ctx, user: User, parse: Parse, *, for_self: bool) -> Location:
    """The place of a request: what the message says, else (for the sender's own needs) their
    remembered home, else the only compound; lists what must still be asked."""
    where = parse.where
    place = await compound_named(ctx, parse.compound)
    found = Location(
        place=place,
        building=where.building if where else None,
        unit=where.unit if where else None,
        room=where.room if where else None,
    )
    home = (
        await org.place_of(session=ctx.session, compound_id=user.compound_id)
        if user.compound_id
        else None
    )
    if found.place is None and for_self and home is not None:
        found.place = home
    if found.place is None:
        found.place = await only_compound(ctx)
    same_home = for_self and home is not None and found.place == home
    if same_home and found.building is None:
        found.building, found.unit = user.building, found.unit or user.unit
        found.room = found.room or user.room
    if found.place is None:
        found.missing.append("compound")
    if found.building is None:
        found.missing.append("building")
    return found


def answer_location(parse: Parse, text: str) -> tuple[str | None, str | None, str | None]:
    """Building, unit and room from an answer to "几号楼?" (a bare number is a building)."""
    where = parse.where
    if where is not None and where.building:
        return where.building, where.unit, where.room
    bare = _BARE_NUMBER.match(text)
    if bare:
        return bare[1], None, None
    return None, None, None


async def remember_home(ctx: Ctx, user: User, location: Location) -> None:
    """Keep the sender's own place for their next request (never a beneficiary's place)."""
    if location.place is None:
        return
    user.compound_id = location.place.compound_id
    if location.building:
        user.building = location.building
        await org.ensure_building(
            session=ctx.session, compound_id=location.place.compound_id, building=location.building
        )
    user.unit = location.unit or user.unit
    user.room = location.room or user.room
    ctx.session.add(user)
