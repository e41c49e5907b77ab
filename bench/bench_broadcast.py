"""Broadcast benchmark: one notice to 100,000 followers through the delivery engine, against the
WeChat stand-in on loopback with the rate limit lifted, on SQLite (and PostgreSQL when it runs).

Prints recipients per second from the notice's start to its last batch settled, the database
time per recipient (statements' execution, summed), and a reference measured in the same run:
the same batches posted straight to the stand-in with no database at all, so the ratio shows
what the bookkeeping costs. Run: .venv/bin/python bench/bench_broadcast.py [--recipients N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event, insert

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.broadcasting.engine import BroadcastEngine  # noqa: E402
from bot.core.config import Config, load_config  # noqa: E402
from bot.simulator.standin import STANDIN, create_standin  # noqa: E402
from bot.wechat.client import WeChatClient  # noqa: E402
from handlers.broadcast import rules_for  # noqa: E402
from storage import audience, broadcasts, migrate, org  # noqa: E402
from storage.audience import EVERYWHERE, AudienceSpec  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.models import BroadcastState, User  # noqa: E402
from storage.types import utcnow  # noqa: E402

APPID = "wx0000000000000000"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Result:
    name: str
    recipients: int
    seconds: float
    db_seconds: float | None = None

    def line(self) -> str:
        rate = f"{self.recipients / self.seconds:9.0f} recipients/s"
        db = (
            f"   db {self.db_seconds / self.recipients * 1e6:6.1f} µs/recipient"
            if self.db_seconds is not None
            else ""
        )
        return f"{self.name:<22} {rate}   {self.seconds:6.2f} s{db}"


@asynccontextmanager
async def standin() -> AsyncIterator[tuple[str, Any]]:
    app = create_standin(APPID, "", real_time=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", app[STANDIN]
    finally:
        await runner.cleanup()


def config_for(url: str, api: str, batch_size: int, *, template_id: str = "") -> Config:
    config = load_config(REPO / "config.example.toml", env={})
    data = config.model_dump()
    data["database"]["url"] = url
    data["wechat"]["api_base_url"] = api
    data["wechat"]["template_id"] = template_id
    data["broadcast"] = {"calls_per_minute": 1_000_000, "batch_size": batch_size}
    data["org"]["compounds"] = ["阳光花园"]
    return Config.model_validate(data)


async def seed(db: Database, config: Config, count: int) -> int:
    """`count` followers in one compound, and a notice to all of them; its id."""
    async with db.transaction() as session:
        place = await org.ensure_place(
            session=session,
            street=config.org.street,
            community=config.org.community,
            compound="阳光花园",
        )
    now = utcnow()
    rows = [
        {
            "openid": f"oBench{n:07}",
            "compound_id": place.compound_id,
            "building": str(n % 40 + 1),
            "subscribed": True,
            "broadcast_opt_out": False,
            "created_at": now,
            "cs_sent_since_interaction": 0,
        }
        for n in range(count)
    ]
    for start in range(0, count, 5000):
        async with db.transaction() as session:
            await session.execute(insert(User), rows[start : start + 5000])
    async with db.transaction() as session:
        chosen = await audience.resolve(session=session, spec=AudienceSpec(), scope=EVERYWHERE)
        notice = await broadcasts.create_broadcast(
            session=session,
            text="明天上午9点到12点停水，请提前储水。",
            audience=chosen,
            scope=EVERYWHERE,
            rules=await rules_for(session, config),
            created_by="bench",
            now=now,
        )
    assert notice.id is not None
    return notice.id


def timed_statements(db: Database) -> list[float]:
    """A one-item list that sums, from now on, the time the engine's statements take."""
    spent = [0.0]
    started: dict[int, float] = {}

    def before(conn: Any, *_: Any) -> None:
        started[id(conn)] = time.perf_counter()

    def after(conn: Any, *_: Any) -> None:
        spent[0] += time.perf_counter() - started.pop(id(conn), time.perf_counter())

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    event.listen(db.engine.sync_engine, "after_cursor_execute", after)
    return spent


async def run_engine(name: str, url: str, count: int, batch_size: int) -> Result:
    db = open_database(url)
    await migrate.upgrade(db)
    async with standin() as (api, state):
        config = config_for(url, api, batch_size)
        notice = await seed(db, config, count)
        spent = timed_statements(db)
        async with WeChatClient(config.wechat, db) as client:
            await client.get_tags()  # the access token, fetched before the clock starts
            engine = BroadcastEngine(db, client, config)
            spent[0] = 0.0
            began = time.perf_counter()
            await engine.run_once()
            seconds = time.perf_counter() - began
        async with db.transaction() as session:
            progress = await broadcasts.progress(
                session=session, broadcast_id=notice, scope=EVERYWHERE
            )
        delivered = len(state.messages())
    await db.close()
    if progress.state != BroadcastState.DONE or progress.sent != count or delivered != count:
        raise SystemExit(f"{name}: not delivered exactly once: {progress}, {delivered} received")
    return Result(name, count, seconds, spent[0])


async def run_reference(count: int, batch_size: int) -> Result:
    """The same batches posted straight to the stand-in: no database, no bookkeeping."""
    async with standin() as (api, state), aiohttp.ClientSession() as http:
        body = {"grant_type": "client_credential", "appid": APPID, "secret": ""}
        async with http.post(f"{api}/cgi-bin/stable_token", json=body) as response:
            token = (await response.json())["access_token"]
        openids = [f"oBench{n:07}" for n in range(count)]
        began = time.perf_counter()
        for number, start in enumerate(range(0, count, batch_size)):
            call = {
                "touser": openids[start : start + batch_size],
                "msgtype": "text",
                "text": {"content": "明天上午9点到12点停水，请提前储水。"},
                "clientmsgid": f"ref-{number}",
            }
            url = f"{api}/cgi-bin/message/mass/send"
            async with http.post(url, json=call, params={"access_token": token}) as response:
                assert (await response.json())["errcode"] == 0
        seconds = time.perf_counter() - began
        assert len(state.messages()) == count
    return Result("bare mass-send loop", count, seconds)


async def pg_database() -> tuple[str, str] | None:
    """A fresh PostgreSQL database (its async URL and name), or None if none runs."""
    import psycopg

    try:
        admin = await psycopg.AsyncConnection.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError:
        return None
    name = f"jinlin_bench_{uuid.uuid4().hex[:8]}"
    async with admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}", name


async def drop_pg(name: str) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(PG_ADMIN, autocommit=True) as admin:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    count, size = args.recipients, args.batch_size
    print(f"one notice to {count:,} recipients, {size:,} per mass-send call, no rate limit")
    reference = await run_reference(count, size)
    print(reference.line())
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        result = await run_engine("engine on SQLite", url, count, size)
    print(f"{result.line()}   ({result.seconds / reference.seconds:.1f}x the bare loop's time)")
    pg = None if args.no_pg else await pg_database()
    if pg is None:
        print("PostgreSQL: skipped")
        return
    try:
        result = await run_engine("engine on PostgreSQL", pg[0], count, size)
        print(f"{result.line()}   ({result.seconds / reference.seconds:.1f}x the bare loop's time)")
    finally:
        await drop_pg(pg[1])


if __name__ == "__main__":
    asyncio.run(main())
