"""Outbox delivery benchmark: one customer-service message to each of N people inside their
48-hour window (how offers and notices usually go out: a message or two per person), through the
outbox deliverer against the WeChat stand-in on loopback, on SQLite.

Prints messages per second and the database time per message (statements' execution, summed),
beside a reference measured in the same run: the same messages sent by the same API client in a
bare loop, with no outbox at all, so the ratio shows what the bookkeeping costs.
Run: .venv/bin/python bench/bench_delivery.py [--messages N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_broadcast import Result, config_for, standin, timed_statements  # noqa: E402
from bot.wechat.client import WeChatClient  # noqa: E402
from bot.wechat.outbound import Deliverer  # noqa: E402
from storage import migrate, outbox, users  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.types import utcnow  # noqa: E402

TEXT = "邻居有求助 #12（跑腿）：帮我买点菜送上来。回复“接单 #12”接下。"


def openids(count: int) -> list[str]:
    return [f"oDeliver{n:07}" for n in range(count)]


async def seed(db: Database, people: list[str]) -> None:
    """Everyone wrote a moment ago, and has one message queued."""
    async with db.transaction() as session:
        await users.touch(session=session, arrivals=dict.fromkeys(people, "message"), at=utcnow())
        await outbox.enqueue_many(session=session, openids=people, text=TEXT)


async def run(count: int, workdir: Path, *, bare: bool) -> Result:
    db = open_database(f"sqlite+aiosqlite:///{workdir / ('bare.db' if bare else 'outbox.db')}")
    await migrate.upgrade(db)
    people = openids(count)
    async with standin() as (api, state):
        for openid in people:
            state.interact(openid)
        config = config_for(str(db.engine.url), api, 1000)
        await seed(db, people)
        async with WeChatClient(config.wechat, db) as client:
            await client.get_tags()  # the access token, fetched before the clock starts
            spent = timed_statements(db)
            began = time.perf_counter()
            if bare:
                for openid in people:
                    await client.send_text(openid, TEXT)
            else:
                deliverer = Deliverer(db, client, config)
                while await deliverer.run_once():
                    pass
            seconds = time.perf_counter() - began
        received = len(state.messages())
    await db.close()
    if received != count:
        raise SystemExit(f"{received} of {count} messages arrived")
    if bare:
        return Result("bare send loop", count, seconds)
    return Result("outbox deliverer", count, seconds, spent[0])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    count = parser.parse_args().messages
    print(f"one customer-service message to each of {count:,} people in their window, SQLite")
    with tempfile.TemporaryDirectory() as tmp:
        reference = await run(count, Path(tmp), bare=True)
        result = await run(count, Path(tmp), bare=False)
    print(reference.line().replace("recipients", "messages"))
    print(
        result.line().replace("recipient", "message")
        + f"   ({result.seconds / reference.seconds:.1f}x the bare loop's time)"
    )


if __name__ == "__main__":
    asyncio.run(main())
