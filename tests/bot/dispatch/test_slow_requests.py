"""A slow request does not hold up others' replies (issue 15): a help request's routing runs
after the cheap messages that came with it, so their replies never wait for its commit."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.core.inbound import Inbound
from bot.dispatch import batching
from bot.dispatch.dispatcher import Dispatcher
from bot.dispatch.understanding import KnownPlaces
from handlers import assignment, build_router
from storage import migrate
from storage.db import open_database
from tests.conftest import make_config
from tests.handlers.community import register_volunteer

_ids = itertools.count(1)
HELP = "阳光花园3号楼，帮我买点菜送上来"


def text(openid: str, words: str) -> Inbound:
    return Inbound(
        openid=openid, kind="text", created=int(time.time()), msg_id=str(next(_ids)), text=words
    )


@asynccontextmanager
async def dispatcher(db_url: str, parser: Any) -> AsyncIterator[Dispatcher]:
    db = open_database(db_url)
    await migrate.upgrade(db)
    await register_volunteer(db, "oVol", "王师傅", ["errand"])
    config = make_config(database={"url": db_url}, org={"compounds": ["阳光花园"]})
    running = Dispatcher(config=config, db=db, router=build_router(), parser=KnownPlaces(parser))
    try:
        yield running
    finally:
        await running.close()
        await db.close()


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Routing a help request waits for this event: a request as slow as the test likes."""
    release = asyncio.Event()
    original = assignment.plan

    async def slow_plan(*args: Any, **kw: Any) -> assignment.Plan:
        await release.wait()
        return await original(*args, **kw)

    monkeypatch.setattr(assignment, "plan", slow_plan)
    return release


async def test_a_greeting_behind_a_slow_help_request_is_answered_first(
    db_url: str, parser: Any, held: asyncio.Event
) -> None:
    async with dispatcher(db_url, parser) as d:
        await d.submit(text("oB", "你好"))  # the places are learnt; both users exist
        await d.submit(text("oA", "你好"))
        asking = d.submit(text("oA", HELP))
        greeting = d.submit(text("oB", "在吗"))  # arrives with it, behind it
        # No timing: the help request is blocked in its routing until released, and the
        # greeting's reply (committed) comes all the same.
        assert "您好" in await asyncio.wait_for(greeting, timeout=10)
        assert not asking.done()
        held.set()
        assert "编号" in await asyncio.wait_for(asking, timeout=10)


async def test_a_senders_own_messages_keep_their_order(
    db_url: str, parser: Any, held: asyncio.Event
) -> None:
    async with dispatcher(db_url, parser) as d:
        await d.submit(text("oA", "你好"))
        asking = d.submit(text("oA", HELP))
        progress = d.submit(text("oA", "进度"))  # about the request just sent: after it
        await asyncio.sleep(0.05)
        assert not progress.done()
        held.set()
        number = (await asking).split("编号 #")[1].split("（")[0]
        assert f"#{number}" in await asyncio.wait_for(progress, timeout=10)


class _Job:
    def __init__(self, sender: str, heavy: bool) -> None:
        self.sender, self.heavy = sender, heavy

    def __repr__(self) -> str:
        return f"{self.sender}{'!' if self.heavy else ''}"


def test_cheap_jobs_go_first_and_expensive_ones_a_few_at_a_time() -> None:
    a_help, b_hi, a_hi, c_help, d_help, e_hi = (
        _Job("a", True),
        _Job("b", False),
        _Job("a", False),
        _Job("c", True),
        _Job("d", True),
        _Job("e", False),
    )
    pending = [a_help, b_hi, a_hi, c_help, d_help, e_hi]
    now, left = batching.next_batch(pending)
    assert now == [b_hi, e_hi] and left == [a_help, a_hi, c_help, d_help]
    now, left = batching.next_batch(left)
    assert now == [a_help][: batching.MAX_HEAVY] and left[0] is a_hi
    now, left = batching.next_batch(left)
    assert now == [a_hi] and left == [c_help, d_help]
    now, left = batching.next_batch(left)
    assert now == [c_help, d_help][: batching.MAX_HEAVY]
