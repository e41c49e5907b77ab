"""Bindings settle in the database: two workers approving at once bind one account, once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage import bindings, org, users
from storage.db import Database
from storage.errors import Conflict
from storage.models import RosterEntry, Volunteer
from storage.types import utcnow


async def test_concurrent_approvals_of_two_claims_to_one_entry_bind_one(db: Database) -> None:
    async with db.transaction() as session:
        place = await org.ensure_place(
            session=session, street="街", community="社", compound="阳光花园"
        )
        entry = RosterEntry(name="王阿姨", phone="13800138000", compound_id=place.compound_id)
        session.add(entry)
        await session.flush()
        people = await users.touch(session=session, arrivals={"oA": None, "oB": None}, at=utcnow())
        claims = [
            await bindings.request(session=session, user_id=people[o].id, entry_id=entry.id or 0)
            for o in ("oA", "oB")
        ]

    async def approve(number: int) -> object:
        try:
            async with db.transaction() as session:
                return await bindings.approve(
                    session=session, number=number, actor="oAdmin", at=utcnow(), task_limit=2
                )
        except Conflict as exc:
            return exc

    outcomes = await asyncio.gather(*(approve(c.id or 0) for c in claims))
    assert sorted(isinstance(o, Conflict) for o in outcomes) == [False, True]
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Volunteer)) == 1
        bound = await session.get(RosterEntry, entry.id)
        assert bound is not None and bound.volunteer_id is not None
        assert await bindings.pending(session=session) == []
