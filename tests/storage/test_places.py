"""Compound names and aliases, and the version every process reads to know they changed."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from storage import org
from storage.db import Database
from storage.errors import Conflict
from storage.models import Compound


async def version(db: Database) -> int:
    async with db.transaction() as session:
        return await org.places_version(session=session)


async def test_the_version_moves_with_every_change_of_compound_or_alias(db: Database) -> None:
    start = await version(db)
    async with db.transaction() as session:
        place = await org.ensure_place(
            session=session, street="街", community="社", compound="阳光花园"
        )
    after_create = await version(db)
    assert after_create != start
    async with db.transaction() as session:
        await org.ensure_building(session=session, compound_id=place.compound_id, building="3")
        await org.ensure_place(session=session, street="街", community="社", compound="阳光花园")
    assert await version(db) == after_create  # buildings and existing places change nothing
    async with db.transaction() as session:
        await org.add_aliases(session=session, compound_id=place.compound_id, names=["阳光小区"])
    after_alias = await version(db)
    assert after_alias != after_create
    async with db.transaction() as session:
        await session.execute(
            update(Compound).where(Compound.id == place.compound_id).values(name="阳光花园一期")
        )
    assert await version(db) != after_alias


async def test_aliases_find_their_compound_and_never_name_two(db: Database) -> None:
    async with db.transaction() as session:
        sun = await org.ensure_place(
            session=session, street="街", community="社", compound="阳光花园"
        )
        joy = await org.ensure_place(
            session=session, street="街", community="社", compound="幸福里"
        )
        await org.add_aliases(
            session=session, compound_id=sun.compound_id, names=["阳光小区", " 阳光 ", "阳光花园"]
        )
        await org.add_aliases(session=session, compound_id=sun.compound_id, names=["阳光"])
    async with db.transaction() as session:
        assert sorted(await org.compound_names(session=session)) == sorted(
            ["阳光花园", "幸福里", "阳光小区", "阳光"]
        )
        assert await org.find_compound(session=session, name="阳光小区") == sun
        assert await org.find_compound(session=session, name="阳光") == sun
        for taken in ("阳光", "阳光花园"):
            with pytest.raises(Conflict, match="阳光花园"):
                await org.add_aliases(session=session, compound_id=joy.compound_id, names=[taken])


async def test_picking_among_names_read_once_finds_what_the_query_finds(db: Database) -> None:
    # The dispatcher finds compounds among the names it read when they last changed
    # (pick_compound), not with a query per message: both must choose alike.
    async with db.transaction() as session:
        for compound in ("阳光花园", "阳光花园二期", "幸福里", "SOHO公寓", "翠竹苑"):
            await org.ensure_place(session=session, street="街", community="社", compound=compound)
        joy = await org.find_compound(session=session, name="幸福里")
        assert joy is not None
        await org.add_aliases(session=session, compound_id=joy.compound_id, names=["幸福小区"])
    asked = ["阳光花园", "阳光", "二期", "花园", "幸福小区", "小区", "幸福", "SOHO", "公寓"]
    asked += ["翠竹", "竹", "月亮湾", "", "%", "_", "园"]
    async with db.transaction() as session:
        named = await org.named_places(session=session)
        for name in asked:
            expected = await org.find_compound(session=session, name=name)
            assert org.pick_compound(named, name) == expected, name
    assert org.pick_compound(named, "阳光花园") is not None  # exact beats the longer name
    assert org.pick_compound(named, "阳光") is None  # two compounds contain it
    # Latin letters in any case, as SQLite's LIKE matches them (PostgreSQL's would not).
    assert org.pick_compound(named, "soho") == org.pick_compound(named, "SOHO") is not None
