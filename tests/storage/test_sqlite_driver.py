"""The SQLite adapter: fewer thread round trips, same transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import messages, migrate, users
from storage.db import Database, open_database
from storage.models import ProcessedMessage
from storage.types import utcnow


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    db = open_database(sqlite_url)
    await migrate.upgrade(db)
    yield db
    await db.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every job handed to a connection's thread, by the name of its function."""
    import aiosqlite

    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(
        self: aiosqlite.Connection, fn: object, *args: object, **kw: object
    ) -> object:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return seen


async def test_begin_rides_with_the_first_statement(sqlite_db: Database, trips: list[str]) -> None:
    async with sqlite_db.transaction() as session:
        await session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE goes with this one
        await messages.record(session=session, replies={"u:1": "hi"})
    assert trips == ["_run", "_run", "commit"]
    async with sqlite_db.transaction() as session:
        assert list(await messages.existing(session=session, keys={"u:1"})) == ["u:1"]


async def test_a_transaction_without_statements_costs_no_trip(
    sqlite_db: Database, trips: list[str]
) -> None:
    async with sqlite_db.engine.begin():
        pass
    assert trips == []


async def test_a_write_that_fails_undoes_the_transaction(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as session:
        await messages.record(session=session, replies={"u:1": "first"})
    with pytest.raises(IntegrityError):
        async with sqlite_db.transaction() as session:
            await session.execute(text("INSERT INTO street (name) VALUES ('S')"))
            await messages.record(session=session, replies={"u:1": "again"})
    # Nothing of the failed transaction stayed, and the pooled connection is usable again.
    async with sqlite_db.transaction() as session:
        streets = (await session.execute(text("SELECT count(*) FROM street"))).scalar()
        found = await messages.existing(session=session, keys={"u:1"})
        await messages.record(session=session, replies={"u:2": "next"})
    assert streets == 0 and found["u:1"].reply == "first"
    async with sqlite_db.transaction() as session:
        assert set(await messages.existing(session=session, keys={"u:1", "u:2"})) == {"u:1", "u:2"}


async def test_two_connections_still_queue_as_writers(sqlite_url: str) -> None:
    # BEGIN IMMEDIATE, now sent with the first statement, still takes the write lock first:
    # a second writer waits on the busy timeout instead of failing at lock upgrade.
    first, second = open_database(sqlite_url), open_database(sqlite_url)
    await migrate.upgrade(first)
    try:
        async with first.engine.begin() as a:
            await a.execute(text("SELECT count(*) FROM street"))
            async with second.engine.connect() as b:
                raw = await b.get_raw_connection()
                await raw.driver_connection.execute("PRAGMA busy_timeout = 50")
                # A plain BEGIN would let this read run beside the writer (WAL).
                with pytest.raises(OperationalError, match="locked"):
                    await b.execute(text("SELECT count(*) FROM street"))
            await a.execute(text("INSERT INTO street (name) VALUES ('S')"))
    finally:
        await first.close()
        await second.close()


async def test_keys_recorded_on_a_connection_take_one_trip(
    sqlite_db: Database, trips: list[str]
) -> None:
    async with sqlite_db.transaction() as session:
        conn = await session.connection()
        await messages.record(session=conn, replies={"u:1": "您好", "u:2": ""})
    assert trips == ["_run", "commit"]
    with pytest.raises(IntegrityError):
        async with sqlite_db.transaction() as session:
            conn = await session.connection()
            await messages.record(session=conn, replies={"u:3": "x", "u:1": "again"})
    async with sqlite_db.transaction() as session:
        found = await messages.existing(session=session, keys={"u:1", "u:2", "u:3"})
    assert {key: row.reply for key, row in found.items()} == {"u:1": "您好", "u:2": ""}
    assert found["u:1"].delivery is None
    async with sqlite_db.transaction() as session:
        stamps = (await session.scalars(select(ProcessedMessage.created_at))).all()
    assert all(abs(utcnow() - stamp) < timedelta(minutes=1) for stamp in stamps)


async def test_touch_on_a_connection_converts_like_the_orm(sqlite_db: Database) -> None:
    at = utcnow()
    expires = at + timedelta(minutes=30)
    async with sqlite_db.transaction() as session:
        arrival = (await users.touch(session=session, arrivals={"o1": None}, at=at))["o1"]
        user = await users.by_id(session=session, user_id=arrival.id)
        await users.set_dialog(
            session=session, user=user, flow="signup", state="skills", expires_at=expires
        )
        user.subscribed = False
    async with sqlite_db.transaction() as session:
        conn = await session.connection()
        found = await users.touch(session=conn, arrivals={"o1": "follow"}, at=at)
    assert found["o1"] == users.Arrival(arrival.id, "o1", "signup", "skills", None, expires)
    async with sqlite_db.transaction() as session:
        user = await users.by_id(session=session, user_id=arrival.id)
    assert (user.last_interaction_at, user.last_interaction_kind) == (at, "follow")
    assert user.subscribed and user.cs_sent_since_interaction == 0


async def test_no_unsent_begin_outlives_its_connections_turn(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with sqlite_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        raw.dbapi_connection.begin_pending = True  # type: ignore[union-attr]
    assert "dropping a BEGIN never sent" in caplog.text
    async with sqlite_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert raw.dbapi_connection.begin_pending is False  # type: ignore[union-attr]
