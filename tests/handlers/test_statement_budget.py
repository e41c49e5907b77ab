"""What a help request costs the database: statements counted where the driver is handed them.

Every statement SQLAlchemy gives a DBAPI cursor passes `before_cursor_execute` on the engine,
whatever built it (ORM, Core, a driver-level string); an executemany counts once. A batch's
own statements (the places version, touching its users, recording its keys) are the same for
a greeting, so a help request's own work is its batch's count less a greeting's.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.core.inbound import Inbound
from bot.dispatch.dispatcher import Dispatcher
from bot.dispatch.understanding import KnownPlaces
from bot.web.keys import CONFIG
from handlers import build_router
from storage.db import Database, open_database
from storage.models import HelpRequest, Status
from tests.handlers.community import Community, community

BUDGET = 10  # statements of a help request's own work (issue 15)
_ids = itertools.count(1)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL of every statement the engine hands its driver meanwhile."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def batch_statements(
    dispatcher: Dispatcher, db: Database, openid: str, text: str
) -> list[str]:
    inbound = Inbound(
        openid=openid, kind="text", created=int(time.time()), msg_id=str(next(_ids)), text=text
    )
    with statements(db) as seen:
        await dispatcher.submit(inbound)
    # BEGIN and COMMIT are the batch's, shared by every message in it.
    return [s for s in seen if s.upper() not in ("BEGIN", "COMMIT", "BEGIN IMMEDIATE")]


async def own_work(c: Community, parser: Any, db_url: str, openid: str, text: str) -> list[str]:
    """The statements a message costs beyond a greeting's, in a batch of its own; run by a
    dispatcher on an engine nothing else uses (the server's deliverer has its own)."""
    db = open_database(db_url)
    dispatcher = Dispatcher(
        config=c.server.app[CONFIG],
        db=db,
        router=build_router(),
        parser=KnownPlaces(parser),
    )
    try:
        await batch_statements(dispatcher, db, openid, "你好")  # learns the place names
        greeting = await batch_statements(dispatcher, db, openid, "在吗")
        asked = await batch_statements(dispatcher, db, openid, text)
    finally:
        await dispatcher.close()
        await db.close()
    own = list(asked)
    for statement in greeting:
        if statement in own:
            own.remove(statement)
    return own


async def _volunteers(c: Community) -> None:
    for n in range(4):
        await c.volunteer(f"oVol{n}", f"志愿者{n}", ["errand", "medical"])
    await c.volunteer("oVolFar", "志愿者远", ["errand"], compound="幸福里")


@pytest.mark.parametrize(
    "first", [False, True], ids=["home already known", "first request, home remembered"]
)
async def test_a_help_request_takes_at_most_ten_statements(
    db_url: str, parser: Any, first: bool
) -> None:
    async with community(db_url, parser) as c:
        await _volunteers(c)
        await c.say("oRes", "你好")
        if not first:
            await c.say("oRes", "阳光花园3号楼，明天下午三点谁能陪我去医院看病")
        own = await own_work(c, parser, db_url, "oRes", "阳光花园3号楼，帮我买点菜送上来")
        async with c.db.transaction() as session:
            latest = (
                await session.scalars(select(HelpRequest).order_by(HelpRequest.id.desc()))
            ).first()
        assert latest is not None and latest.status == Status.OFFERED
        assert len(own) <= BUDGET, "\n".join(own)


async def test_an_escalated_request_stays_within_the_budget_too(db_url: str, parser: Any) -> None:
    async with community(db_url, parser) as c:
        await c.say("oRes", "你好")
        own = await own_work(c, parser, db_url, "oRes", "阳光花园3号楼，帮我买点菜送上来")
        async with c.db.transaction() as session:
            latest = (await session.scalars(select(HelpRequest))).first()
        assert latest is not None and latest.status == Status.ESCALATED
        assert len(own) <= BUDGET, "\n".join(own)
