"""Storage on both backends: migrations, message keys, users, places, the outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError

from storage import delivery, messages, migrate, org, outbox, users
from storage.db import Database, open_database
from storage.models import Street
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


async def test_message_key_is_recorded_once(db: Database) -> None:
    async with db.transaction() as session:
        assert await messages.existing(session=session, keys={"u:1"}) == {}
        await messages.record(session=session, replies={"u:1": "hi", "u:2": ""})
    async with db.transaction() as session:
        found = await messages.existing(session=session, keys={"u:1", "u:3"})
        assert list(found) == ["u:1"] and found["u:1"].reply == "hi"
        assert await messages.claim_delivery(session=session, key="u:1", how="outbox")
        assert not await messages.claim_delivery(session=session, key="u:1", how="passive")


async def test_a_key_recorded_twice_fails_the_second_transaction(db: Database) -> None:
    async def attempt() -> bool:
        try:
            async with db.transaction() as session:
                await messages.record(session=session, replies={"u:race": "x"})
        except IntegrityError:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(6)))
    assert results.count(True) == 1


async def test_touch_creates_then_updates_the_window(db: Database) -> None:
    t0 = utcnow()
    async with db.transaction() as session:
        found = await users.touch(session=session, arrivals={"o1": "message", "o9": None}, at=t0)
        assert found["o1"].openid == "o1" and found["o1"].dialog_flow is None
        user = await users.by_id(session=session, user_id=found["o1"].id)
        assert user.last_interaction_kind == "message" and user.last_interaction_at == t0
        assert (
            await users.by_id(session=session, user_id=found["o9"].id)
        ).last_interaction_at is None
        user.cs_sent_since_interaction = 3

    async def window(at: datetime, kind: str | None) -> tuple[Any, ...]:
        async with db.transaction() as session:
            arrival = (await users.touch(session=session, arrivals={"o1": kind}, at=at))["o1"]
            user = await users.by_id(session=session, user_id=arrival.id)
            return (
                arrival.id,
                user.last_interaction_at,
                user.last_interaction_kind,
                user.cs_sent_since_interaction,
            )

    # An arrival that does not open the window leaves it; one that does resets the quota.
    assert await window(t0 + timedelta(hours=1), None) == (user.id, t0, "message", 3)
    assert await window(t0 + timedelta(hours=2), "click") == (
        user.id,
        t0 + timedelta(hours=2),
        "click",
        0,
    )


async def test_dialog_expires(db: Database) -> None:
    now = utcnow()
    async with db.transaction() as session:
        arrival = (await users.touch(session=session, arrivals={"o2": "message"}, at=now))["o2"]
        user = await users.by_id(session=session, user_id=arrival.id)
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
            rows = await delivery.claim_due(
                session=session, now=utcnow(), lease=timedelta(minutes=1)
            )
            return [r.id for r in rows if r.id is not None]

    taken = await asyncio.gather(take(), take(), take())
    flat = [i for batch in taken for i in batch]
    assert sorted(flat) == [1, 2, 3, 4, 5]
    async with db.transaction() as session:
        await outbox.mark_retry(session=session, ids=[1], error="busy", at=utcnow())
        delivered = outbox.Delivered([2, 3, 4, 5], "custom", utcnow())
        await outbox.mark_sent(session=session, delivered=[delivered])
    async with db.transaction() as session:
        again = await delivery.claim_due(session=session, now=utcnow(), lease=timedelta(minutes=1))
        assert [(r.id, r.attempts) for r in again] == [(1, 1)]


async def test_a_transaction_commits_rolls_back_and_replaces_a_broken_connection(
    db: Database,
) -> None:
    class Abandon(Exception):
        pass

    async def streets() -> set[str]:
        async with db.transaction() as session:
            return set(await session.scalars(select(Street.name)))

    async with db.transaction() as session:
        session.add(Street(name="A"))  # an ORM change, flushed when the block ends
    with pytest.raises(Abandon):
        async with db.transaction() as session:
            session.add(Street(name="B"))
            await session.flush()
            raise Abandon
    assert await streets() == {"A"}

    # The connection breaks (here: the server ends it, as in a restart): the transaction
    # it caught fails, and the next one runs on a new connection.
    with pytest.raises((DBAPIError, PendingRollbackError)):
        async with db.transaction() as session:
            if db.is_sqlite:
                await (await session.connection()).invalidate()
            else:
                backend = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()
                async with db.engine.connect() as other:
                    await other.execute(text(f"SELECT pg_terminate_backend({backend})"))
            session.add(Street(name="lost"))
            await session.flush()
    async with db.transaction() as session:  # and the next one has a new connection
        session.add(Street(name="C"))
    assert await streets() == {"A", "C"}
