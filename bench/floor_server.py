"""The webhook benchmark's floor: the least work the real mix needs, done the cheapest way the
project's fixed stack allows.

The reference (bench/reference_server.py) shows what the webhook costs with no work at all. This
server shows what the work itself costs at the least, so that the gap between the reference and
Jinlin splits into what the work needs and what Jinlin adds. It does what no correct server can
skip, and nothing else:

- every message: its sender touched (created or last seen now) and its key recorded with its
  reply, so that a retried copy is known;
- a help request: parsed by Jinlin's parser, stored, routed to up to five volunteers of its
  compound whose skills cover its category, an offer and an outbox row for each;
- a progress question: the sender's latest requests read.

It does it on SQLAlchemy's async engine with Jinlin's SQLite adapter (storage.db.open_database),
in Core statements built once, and batched as hard as they go: the messages of one turn of the
event loop share one transaction and each kind of statement runs once for all of them (one
upsert of every sender, one insert of every request, one read of every candidate, ...), so a
statement's fixed cost is shared by the whole batch. It keeps a schema of its own with only the
columns this needs. It has no conversation state, no roles, no emergencies, no outbound
delivery, and no fallback for a failed batch.

Run by bench/bench_webhook.py: python bench/floor_server.py PORT TOKEN SQLITE_PATH
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from wechatpy import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webhook_load import COMPOUNDS
from bench.webhook_world import SKILL_SETS
from nlp import Parse, Parser
from storage.db import Database, open_database

HELP = frozenset({"request_help", "emergency"})
OFFERS_PER_REQUEST = 5

schema = MetaData()
users = Table(
    "users",
    schema,
    Column("id", Integer, primary_key=True),
    Column("openid", Text, nullable=False, unique=True),
    Column("last_seen", Text),
)
volunteers = Table(
    "volunteers",
    schema,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("compound", Text, nullable=False, index=True),
    Column("skills", Text, nullable=False),
)
requests = Table(
    "requests",
    schema,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("category", Text),
    Column("compound", Text),
    Column("status", Text, nullable=False),
    Column("created", Text, nullable=False),
)
offers = Table(
    "offers",
    schema,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, nullable=False),
    Column("volunteer_id", Integer, nullable=False),
)
outbox = Table(
    "outbox",
    schema,
    Column("id", Integer, primary_key=True),
    Column("openid", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("created", Text, nullable=False),
)
handled = Table(
    "handled",
    schema,
    Column("key", Text, primary_key=True),
    Column("reply", Text, nullable=False),
)

_touch = sqlite_insert(users)
TOUCH = _touch.on_conflict_do_update(
    index_elements=["openid"], set_={"last_seen": _touch.excluded.last_seen}
).returning(users.c.openid, users.c.id, sort_by_parameter_order=True)
STORE = insert(requests).returning(requests.c.id, sort_by_parameter_order=True)
CANDIDATES = (
    select(volunteers.c.id, volunteers.c.compound, volunteers.c.skills, users.c.openid)
    .join(users, users.c.id == volunteers.c.user_id)
    .where(volunteers.c.compound.in_(bindparam("compounds", expanding=True)))
    .order_by(volunteers.c.id)
)
LATEST = (
    select(requests.c.user_id, requests.c.id, requests.c.status)
    .where(requests.c.user_id.in_(bindparam("user_ids", expanding=True)))
    .order_by(requests.c.id.desc())
)


@dataclass
class Job:
    key: str
    openid: str
    text: str
    parse: Parse
    reply: asyncio.Future[str] = field(repr=False)


async def handle(conn: AsyncConnection, jobs: list[Job], now: str) -> dict[str, str]:
    """Every job's reply, after one statement of each kind for the whole batch."""
    openids = list(dict.fromkeys(job.openid for job in jobs))
    touched = await conn.execute(TOUCH, [{"openid": o, "last_seen": now} for o in openids])
    user_of = dict(touched.tuples().all())
    replies: dict[str, str] = {}
    asking = [job for job in jobs if job.parse.intent in HELP]
    if asking:
        rows = [
            {
                "user_id": user_of[job.openid],
                "text": job.text,
                "category": job.parse.category,
                "compound": job.parse.compound,
                "status": "offered",
                "created": now,
            }
            for job in asking
        ]
        ids = (await conn.execute(STORE, rows)).scalars().all()
        named = sorted({job.parse.compound for job in asking if job.parse.compound})
        found = (await conn.execute(CANDIDATES, {"compounds": named})).all() if named else []
        offered: list[dict[str, Any]] = []
        queued: list[dict[str, Any]] = []
        for job, request_id in zip(asking, ids, strict=True):
            skill = job.parse.category or ""
            chosen = [v for v in found if v.compound == job.parse.compound and skill in v.skills][
                :OFFERS_PER_REQUEST
            ]
            offered += [{"request_id": request_id, "volunteer_id": v.id} for v in chosen]
            notice = f"新求助 #{request_id}：{job.text}"
            queued += [{"openid": v.openid, "text": notice, "created": now} for v in chosen]
            replies[job.key] = f"已收到您的求助，编号 #{request_id}，已通知{len(chosen)}位志愿者。"
        if offered:
            await conn.execute(insert(offers), offered)
            await conn.execute(insert(outbox), queued)
    checking = [job for job in jobs if job.parse.intent == "check_status"]
    if checking:
        wanted = sorted({user_of[job.openid] for job in checking})
        latest: dict[int, list[str]] = {}
        for user_id, request_id, status in await conn.execute(LATEST, {"user_ids": wanted}):
            latest.setdefault(user_id, []).append(f"#{request_id} {status}")
        for job in checking:
            mine = latest.get(user_of[job.openid], [])[:3]
            replies[job.key] = "您的求助：" + "；".join(mine) if mine else "您还没有求助。"
    for job in jobs:
        replies.setdefault(job.key, "不客气！" if job.parse.intent == "thanks" else "您好！")
    await conn.execute(insert(handled), [{"key": k, "reply": r} for k, r in replies.items()])
    return replies


class Floor:
    """Batches the messages of one turn of the loop into one transaction."""

    def __init__(self, db: Database, parser: Parser) -> None:
        self.db = db
        self.parser = parser
        self.pending: list[Job] = []
        self.drainer: asyncio.Future[None] | None = None

    def submit(self, key: str, openid: str, text: str) -> asyncio.Future[str]:
        job = Job(key, openid, text, self.parser.parse(text, datetime.now()), _future())
        self.pending.append(job)
        if self.drainer is None or self.drainer.done():
            self.drainer = asyncio.ensure_future(self.drain())
        return job.reply

    async def drain(self) -> None:
        await asyncio.sleep(0)
        while self.pending:
            jobs, self.pending = self.pending, []
            try:
                async with self.db.engine.begin() as conn:
                    replies = await handle(conn, jobs, datetime.now().isoformat())
            except Exception as exc:
                for job in jobs:
                    job.reply.set_exception(exc)
                continue
            for job in jobs:
                job.reply.set_result(replies[job.key])


def _future() -> asyncio.Future[str]:
    return asyncio.get_running_loop().create_future()


async def prepare(db: Database) -> None:
    """The schema, and twenty volunteers per compound as the benchmark's roster has them."""
    async with db.engine.begin() as conn:
        await conn.run_sync(schema.create_all)
        if await conn.scalar(select(func.count()).select_from(volunteers)):
            return
        for c, compound in enumerate(COMPOUNDS):
            for n in range(20):
                user_id = await conn.scalar(
                    insert(users).returning(users.c.id), {"openid": f"oVol{c}{n:03d}"}
                )
                await conn.execute(
                    insert(volunteers),
                    {"user_id": user_id, "compound": compound, "skills": SKILL_SETS[n % 5]},
                )


def create_floor(token: str, db: Database, parser: Parser) -> web.Application:
    floor = Floor(db, parser)

    async def receive(request: web.Request) -> web.Response:
        query = request.query
        check_signature(token, query["signature"], query["timestamp"], query["nonce"])
        message = parse_message(await request.read())
        key = f"{message.source}:{message.id}"
        text = await floor.submit(key, message.source, message.content)
        reply = TextReply(source=message.target, target=message.source, content=text)
        return web.Response(text=reply.render(), content_type="application/xml")

    app = web.Application()
    app.router.add_post("/wechat", receive)
    return app


async def start(port: int, token: str, path: str) -> None:
    db = open_database(f"sqlite+aiosqlite:///{path}")
    await prepare(db)
    parser = await asyncio.to_thread(Parser)
    parser.add_compounds(COMPOUNDS)
    runner = web.AppRunner(create_floor(token, db, parser), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(start(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
