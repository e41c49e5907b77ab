"""Storage on both backends: migrations, message keys, users, places, the outbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from storage import messages, migrate, org, outbox, users
from storage.db import Database, open_database
from storage.types import utcnow


async def test_migrations_are_at_head_and_idempotent(db: Database) -> None:
    assert await migrate.current_revision(db) == migrate.head_revision()
    await migrate.upgrade(db)
    assert await migrate.current_revision(db) == migrate.head_revision()


async def test_concurrent_upgrades_from_empty_do_not_collide(sqlite_url: str) -> None:
    dbs = [open_database(sqlite_url) for _ in range(3)]
    await asyncio.gather(*(migrate.upgrade(d) for d in dbs))
    assert await migrate.current_revision(dbs[0]) == migrate.head_revision()
    for d in dbs:
        await d.close()


async def test_sqlite_runs_in_wal_mode_with_busy_timeout(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000
    await db.close()


async def test_message_key_is_claimed_once(db: Database) -> None:
    async with db.transaction() as session:
        assert await messages.claim(session=session, key="u:1")
        await messages.record_reply(session=session, key="u:1", reply="hi")
    async with db.transaction() as session:
        assert not await messages.claim(session=session, key="u:1")
        record = await messages.stored(session=session, key="u:1")
        assert record is not None and record.reply == "hi"
        assert await messages.claim_delivery(session=session, key="u:1", how="outbox")
        assert not await messages.claim_delivery(session=session, key="u:1", how="passive")


async def test_concurrent_claims_have_one_winner(db: Database) -> None:
    async def attempt() -> bool:
        async with db.transaction() as session:
            return await messages.claim(session=session, key="u:race")

    results = await asyncio.gather(*(attempt() for _ in range(8)))
    assert results.count(True) == 1


async def test_touch_creates_then_updates_the_window(db: Database) -> None:
    t0 = utcnow()
    async with db.transaction() as session:
        user = await users.touch(session=session, openid="o1", kind="message", at=t0)
        assert user.id is not None and user.last_interaction_kind == "message"
        user.cs_sent_since_interaction = 3
    async with db.transaction() as session:
        again = await users.touch(
            session=session, openid="o1", kind=None, at=t0 + timedelta(hours=1)
        )
        assert again.id == user.id and again.cs_sent_since_interaction == 3
        assert again.last_interaction_at == t0
        later = await users.touch(
            session=session, openid="o1", kind="click", at=t0 + timedelta(hours=2)
        )
        assert later.last_interaction_kind == "click" and later.cs_sent_since_interaction == 0


async def test_dialog_expires(db: Database) -> None:
    now = utcnow()
    async with db.transaction() as session:
        user = await users.touch(session=session, openid="o2", kind="message", at=now)
        await users.set_dialog(
            session=session,
            user=user,
            flow="signup",
            state="skills",
            data={"a": 1},
            expires_at=now + timedelta(minutes=30),
        )
    async with db.transaction() as session:
        user = await users.get(session=session, openid="o2")
        assert users.dialog(user, now) == ("signup", "skills", {"a": 1})
        assert users.dialog(user, now + timedelta(hours=1)) is None


async def test_places_are_created_once(db: Database) -> None:
    async with db.transaction() as session:
        a = await org.ensure_place(
            session=session, street="S", community="C", compound="阳光花园", building="3"
        )
        b = await org.ensure_place(
            session=session, street="S", community="C", compound="阳光花园", building="3"
        )
        assert a == b
        assert await org.compound_names(session=session) == ["阳光花园"]
        found = await org.find_compound(session=session, name="阳光")
        assert found is not None and found.community == "C"


async def test_outbox_lease_has_one_taker(db: Database) -> None:
    async with db.transaction() as session:
        for i in range(5):
            await outbox.enqueue(session=session, openid=f"o{i}", text="hello")

    async def take() -> list[int]:
        async with db.transaction() as session:
            rows = await outbox.claim_due(session=session, now=utcnow(), lease=timedelta(minutes=1))
            return [r.id for r in rows if r.id is not None]

    taken = await asyncio.gather(take(), take(), take())
    flat = [i for batch in taken for i in batch]
    assert sorted(flat) == [1, 2, 3, 4, 5]
    async with db.transaction() as session:
        await outbox.mark_retry(session=session, ids=[1], error="busy", at=utcnow())
        await outbox.mark_sent(session=session, ids=[2, 3, 4, 5], via="custom")
    async with db.transaction() as session:
        again = await outbox.claim_due(session=session, now=utcnow(), lease=timedelta(minutes=1))
        assert [(r.id, r.attempts) for r in again] == [(1, 1)]
