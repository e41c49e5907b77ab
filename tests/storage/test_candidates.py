"""Routing reads its candidates as plain rows on the session's connection (storage.sql.plain_rows),
yet sees what the session holds unwritten, as the ORM's autoflush would have shown it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage import org, volunteers
from storage.db import Database
from storage.models import User
from tests.handlers.community import register_volunteer


async def _candidates(session: object, place: org.Place) -> list[str]:
    found = await volunteers.candidates(
        session=session,  # type: ignore[arg-type]
        category="errand",
        place=place,
        building="3",
        local_at=datetime(2026, 12, 7, 10),
        has_time=True,
    )
    return [c.openid for c in found]


async def test_a_pause_not_yet_written_keeps_a_volunteer_out_of_routing(db: Database) -> None:
    await register_volunteer(db, "oVolWang", "王师傅", ["errand"])
    await register_volunteer(db, "oVolLi", "李阿姨", ["errand"])
    async with db.transaction() as session:
        place = await org.find_compound(session=session, name="阳光花园")
        assert place is not None
        assert sorted(await _candidates(session, place)) == ["oVolLi", "oVolWang"]
        user = (await session.scalars(select(User).where(User.openid == "oVolWang"))).one()
        wang = await volunteers.find(session=session, user_id=user.id)
        assert wang is not None
        await volunteers.set_paused(session=session, volunteer=wang, paused=True)  # unflushed
        assert await _candidates(session, place) == ["oVolLi"]
