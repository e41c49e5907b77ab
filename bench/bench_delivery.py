"""Outbox delivery benchmark, through the outbox deliverer against the WeChat stand-in on
loopback, on SQLite, in two cases:

- window: one customer-service message to each of N people inside their 48-hour window (how
  offers and notices usually go out: a message or two per person);
- template: one offer too long for a template field to each of N people outside their window,
  announced by a template message and left to wait for the reader's reply (how offers reach
  volunteers who have not written lately, and busy ones whose quota is used up).

Prints messages per second and the database time per message (statements' execution, summed),
beside a reference measured in the same run: the same calls made by the same API client in a
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
from bot.wechat.outbound import Deliverer, template_data  # noqa: E402
from storage import migrate, outbox, users  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.types import utcnow  # noqa: E402

TEXT = "邻居有求助 #12（跑腿）：帮我买点菜送上来。回复“接单 #12”接下。"
TEMPLATE = "TPL-BENCH-DELIVERY"
CASES = ("window", "template")


def openids(count: int) -> list[str]:
    return [f"oDeliver{n:07}" for n in range(count)]


async def seed(db: Database, people: list[str], *, in_window: bool) -> None:
    """Everyone has one message queued; in the window, everyone wrote a moment ago."""
    async with db.transaction() as session:
        kind = "message" if in_window else None
        await users.touch(session=session, arrivals=dict.fromkeys(people, kind), at=utcnow())
        await outbox.enqueue_many(session=session, openids=people, text=TEXT)


async def run(count: int, workdir: Path, *, case: str, bare: bool) -> Result:
    name = f"{case}-{'bare' if bare else 'outbox'}.db"
    db = open_database(f"sqlite+aiosqlite:///{workdir / name}")
    await migrate.upgrade(db)
    people = openids(count)
    in_window = case == "window"
    async with standin() as (api, state):
        state.add_template(TEMPLATE)
        if in_window:
            for openid in people:
                state.interact(openid)
        config = config_for(str(db.engine.url), api, 1000, template_id=TEMPLATE)
        await seed(db, people, in_window=in_window)
        async with WeChatClient(config.wechat, db) as client:
            await client.get_tags()  # the access token, fetched before the clock starts
            spent = timed_statements(db)
            began = time.perf_counter()
            if bare:
                for openid in people:
                    if in_window:
                        await client.send_text(openid, TEXT)
                    else:
                        await client.send_template(openid, TEMPLATE, template_data([TEXT])[0])
            else:
                deliverer = Deliverer(db, client, config)
                arrived = -1
                while arrived < len(state.messages()) < count:  # until done or stuck
                    arrived = len(state.messages())
                    await deliverer.run_once()
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
    parser.add_argument("--case", choices=CASES, action="append", help="default: both")
    args = parser.parse_args()
    count = args.messages
    titles = {
        "window": "one customer-service message to each of {:,} people in their window",
        "template": "one long offer to each of {:,} people out of their window, by template",
    }
    for case in args.case or CASES:
        print(titles[case].format(count) + ", SQLite")
        with tempfile.TemporaryDirectory() as tmp:
            reference = await run(count, Path(tmp), case=case, bare=True)
            result = await run(count, Path(tmp), case=case, bare=False)
        print(reference.line().replace("recipients", "messages"))
        print(
            result.line().replace("recipient", "message")
            + f"   ({result.seconds / reference.seconds:.1f}x the bare loop's time)"
        )


if __name__ == "__main__":
    asyncio.run(main())
