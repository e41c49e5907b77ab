"""Where a request is: the compound and building, from the message or what we remember."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from bot.core.context import Ctx
from nlp import Parse
from storage import org
from storage.models import User
from storage.org import Place

_BARE_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")
# How alike a stretch of the message must be to a compound's name (or alias) to offer it:
# one wrong character in a three-character name scores 67, in a four-character one 75.
CLOSE_ENOUGH = 65
MAX_CHOICES = 6


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
    if ctx.places is not None:
        return ctx.places.find(name)
    return await org.find_compound(session=ctx.session, name=name)


async def only_compound(ctx: Ctx) -> Place | None:
    """The compound when exactly one is configured (or, without any configured, known): then
    nobody is asked for it, whatever compounds an import of volunteers brought along."""
    configured = ctx.config.org.compounds
    if len(configured) == 1:
        return await compound_named(ctx, configured[0])
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
    # The home is read only when the message names no compound: a named one either is the
    # home (same id) or is not, and nothing else of the home is needed.
    if found.place is None and for_self and user.compound_id:
        found.place = await org.place_of(session=ctx.session, compound_id=user.compound_id)
    if found.place is None:
        found.place = await only_compound(ctx)
    same_home = for_self and found.place is not None and found.place.compound_id == user.compound_id
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
    compound_id = location.place.compound_id
    # A home already remembered costs nothing: an unchanged user row is not written.
    if location.building and (user.compound_id, user.building) != (compound_id, location.building):
        await org.ensure_building(
            session=ctx.session, compound_id=compound_id, building=location.building
        )
    user.compound_id = compound_id
    user.building = location.building or user.building
    user.unit = location.unit or user.unit
    user.room = location.room or user.room
    ctx.session.add(user)


async def compound_choices(ctx: Ctx, text: str) -> tuple[list[Place], bool]:
    """Compounds to offer for an answer that named none known: those whose names come close
    to a stretch of `text` (阳光花苑 for 阳光花园), best first; else every compound, up to a
    handful. The flag tells whether they came close."""
    best: dict[int, tuple[float, Place]] = {}
    every: dict[int, Place] = {}
    for name, place in await org.named_places(session=ctx.session):
        every.setdefault(place.compound_id, place)
        score = fuzz.partial_ratio(name, text) if text else 0.0
        if score >= CLOSE_ENOUGH and score > best.get(place.compound_id, (0.0, place))[0]:
            best[place.compound_id] = (score, place)
    if best:
        ranked = sorted(best.values(), key=lambda found: -found[0])
        return [place for _, place in ranked[:MAX_CHOICES]], True
    return list(every.values())[:MAX_CHOICES], False


def choices_question(choices: list[Place], close: bool) -> str:
    """The question listing `choices` by number (answered by picked_compound)."""
    listed = " ".join(f"{n}{place.compound}" for n, place in enumerate(choices, 1))
    if close:
        return f"没找到这个小区，您说的是：{listed}？回复编号就行，也可以写“小区名+楼号”。"
    return f"是哪个小区？回复编号就行：{listed}。也可以写“小区名+楼号”，例如“{choices[0].compound}3号楼”。"


async def picked_compound(ctx: Ctx, text: str, choices: list[int] | None) -> Place | None:
    """The compound whose number in the last list of choices the answer is."""
    bare = _BARE_NUMBER.match(text)
    if not choices or not bare or not 1 <= int(bare[1]) <= len(choices):
        return None
    return await org.place_of(session=ctx.session, compound_id=choices[int(bare[1]) - 1])


async def scanned_compound(ctx: Ctx, user: User, event_key: str | None) -> Place | None:
    """The compound whose QR code was scanned, now the user's home; None for any other scan."""
    compound_id = org.scene_compound(event_key)
    place = (
        await org.place_of(session=ctx.session, compound_id=compound_id) if compound_id else None
    )
    if place is None:
        return None
    if user.compound_id != place.compound_id:
        # A building or room of another compound would be wrong here.
        user.compound_id, user.building, user.unit, user.room = place.compound_id, None, None, None
        ctx.session.add(user)
    return place
