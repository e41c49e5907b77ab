"""From inbound messages to their replies: dedupe, one transaction, the router, the outbox.

Messages that arrive together are handled together: one transaction touches their users, runs
their handlers and records their keys with their replies, in a few statements (group commit).
Each database round trip costs far more than the work inside it, so this is what lets the
webhook keep up with WeChat's bursts. The key's primary key makes a copy's insert fail; then,
as when anything else in a batch fails, each message is retried on its own, looking for an
earlier copy first, so one bad message never costs another its effect.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.context import Ctx, Notifier
from bot.core.inbound import Inbound
from bot.core.router import Lazy, Router
from bot.dispatch.batching import HEAVY_INTENTS, next_batch
from bot.dispatch.understanding import KnownPlaces, TextParser
from nlp import Parse
from storage import accounts, messages, outbox, users, volunteers
from storage.db import Database
from storage.types import utcnow

logger = logging.getLogger(__name__)

SORRY = "抱歉，系统暂时出了点问题，请稍后再发一次。"
SMALL_TALK = frozenset({"greeting", "thanks"})


@dataclass
class _Job:
    inbound: Inbound
    parse: Parse | None  # None for what has no text (events, images, unrecognised voice)
    future: asyncio.Future[str] = field(repr=False)  # what the caller awaits
    deadline: float = math.inf  # loop time by which the caller needs an answer
    late: bool = False  # the caller was answered empty; the reply goes through the outbox

    @property
    def key(self) -> str:
        return self.inbound.dedup_key

    @property
    def sender(self) -> str:
        return self.inbound.openid

    @property
    def heavy(self) -> bool:
        return self.parse is not None and self.parse.intent in HEAVY_INTENTS


class Dispatcher:
    """Turns each inbound message into exactly one effect and one reply."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        router: Router,
        parser: TextParser | KnownPlaces,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.db = db
        self.router = router
        self.places = parser if isinstance(parser, KnownPlaces) else KnownPlaces(parser)
        self.parser = self.places.parser
        self.on_queued = on_queued
        self._tz = config.org.tz
        self._clock: tuple[float, datetime] = (0.0, datetime.min)
        self._pending: list[_Job] = []
        self._running: list[_Job] = []
        self._drainer: asyncio.Future[None] | None = None
        # One timer for all deadlines, not one per message: armed for the oldest job's, it
        # looks at the jobs still waiting when it fires and re-arms for the next.
        self._watchdog: asyncio.TimerHandle | None = None
        self._late: set[asyncio.Future[None]] = set()

    def local_now(self) -> datetime:
        """The community's wall-clock time, naive, as the parser expects it."""
        # Messages arrive in bursts; within a millisecond they share one reading of the clock.
        now = time.time()
        if now - self._clock[0] >= 0.001:
            self._clock = (now, datetime.fromtimestamp(now, self._tz).replace(tzinfo=None))
        return self._clock[1]

    def submit(self, inbound: Inbound, *, within: float | None = None) -> asyncio.Future[str]:
        """Queue `inbound` for the next batch; the future gets its reply.

        With `within` (seconds), a reply not ready by then is answered "" instead, and the
        real one is sent through the outbox once it is (never both).
        """
        loop = asyncio.get_running_loop()
        local_now = self.local_now()
        parse = self.parser.parse(inbound.text, local_now) if inbound.text else None
        job = _Job(inbound, parse, loop.create_future())
        if within is not None:
            job.deadline = loop.time() + within
            if self._watchdog is None:
                self._watchdog = loop.call_at(job.deadline, self._expire)
        self._pending.append(job)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
        return job.future

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        self._watchdog = None
        now, upcoming = loop.time(), math.inf
        for job in (*self._running, *self._pending):
            if job.future.done():
                continue
            if job.deadline <= now:
                logger.warning("a reply missed its deadline; it will go through the outbox")
                job.late = True
                job.future.set_result("")
            else:
                upcoming = min(upcoming, job.deadline)
        if upcoming < math.inf:
            self._watchdog = loop.call_at(upcoming, self._expire)

    async def _drain(self) -> None:
        # One turn of the loop first: requests already read but not yet parsed join this batch
        # instead of each starting a transaction of its own.
        await asyncio.sleep(0)
        while self._pending:
            jobs, self._pending = next_batch(self._pending)
            self._running = jobs
            try:
                await self._run(jobs, optimistic=True)
            except Exception as exc:
                # The class only: a driver's message quotes the statement's parameters.
                logger.info(
                    "a batch of %d failed (%s); handling one by one",
                    len(jobs),
                    exc.__class__.__name__,
                )
                for job in jobs:
                    try:
                        await self._run([job])
                    except Exception as single:
                        _fail(job, single)
            finally:
                self._running = []

    async def _run(self, jobs: list[_Job], *, optimistic: bool = False) -> None:
        # Optimistic batches skip looking for earlier copies: a copy makes the final insert of
        # the keys fail, and the batch is then retried one message at a time, looking.
        now = utcnow()
        async with self.db.transaction() as session:
            # The dispatcher's own statements need no ORM: they run on the connection.
            conn = await session.connection()
            if await self.places.catch_up(conn):
                # A compound added since these were parsed (at arrival) may be named in them.
                for job in jobs:
                    if job.parse is not None and job.inbound.text:
                        job.parse = self.parser.parse(job.inbound.text, self.local_now())
            seen = (
                {}
                if optimistic
                else await messages.existing(session=conn, keys={job.key for job in jobs})
            )
            fresh: dict[str, _Job] = {}
            for job in jobs:
                if job.key not in seen:
                    fresh.setdefault(job.key, job)
            arrivals: dict[str, str | None] = {}
            for job in fresh.values():
                kind = job.inbound.interaction
                arrivals[job.inbound.openid] = kind or arrivals.get(job.inbound.openid)
            people = await users.touch(session=conn, arrivals=arrivals, at=now)
            # Most handlers but small talk's take the sender's whole record: read them all at
            # once here rather than one statement each, held until the batch ends.
            held = await users.load(
                session=session,
                user_ids=[
                    people[job.inbound.openid].id
                    for job in fresh.values()
                    if not _small_talk(job, people[job.inbound.openid])
                ],
            )
            notify = Notifier(session)
            ctx = Ctx(
                session=session, config=self.config, notify=notify, now=now, places=self.places
            )
            replies: dict[str, str] = {}
            for key, job in fresh.items():
                replies[key] = await self._route(ctx, job, people[job.inbound.openid])
            await messages.record(session=conn, replies=replies)
            del held
            for key, record in seen.items():
                replies[key] = await self._copy_reply(session, record)
        for job in jobs:
            if job.late:
                self._deliver_late(job.inbound, replies[job.key])
            elif not job.future.done():
                job.future.set_result(replies[job.key])
        if notify.queued:
            self.on_queued()

    def _deliver_late(self, inbound: Inbound, reply: str) -> None:
        task = asyncio.ensure_future(self._send_late(inbound, reply))
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def _route(self, ctx: Ctx, job: _Job, arrival: users.Arrival) -> str:
        inbound, session = job.inbound, ctx.session
        # A handler earlier in this batch may have changed the user's pending question.
        pending = users.dialog(
            users.loaded(session=session, user_id=arrival.id) or arrival, ctx.now
        )
        roles: frozenset[str] | None = None

        async def user_roles() -> frozenset[str]:
            nonlocal roles
            if roles is None:
                found = {"resident"}
                # Duty workers by config; community workers by their linked console account.
                if inbound.openid in self.config.admin.openids or (
                    await accounts.by_openid(session=session, openid=inbound.openid) is not None
                ):
                    found.add("admin")
                if await volunteers.find(session=session, user_id=arrival.id) is not None:
                    found.add("volunteer")
                roles = frozenset(found)
            return roles

        # The handler arguments (router.ARGUMENTS), and the pending question the router matches.
        data: dict[str, Any] = {
            "ctx": ctx,
            "msg": inbound,
            "parse": job.parse,
            "user": Lazy(partial(users.by_id, session=session, user_id=arrival.id)),
            "dialog_data": pending[2] if pending else {},
            "dialog_state": f"{pending[0]}.{pending[1]}" if pending else None,
        }
        reply = await self.router.dispatch(data, user_roles)
        return str(reply) if reply else ""

    async def _copy_reply(self, session: AsyncSession, record: messages.Handled) -> str:
        delivery = record.delivery
        if delivery is None and not await messages.claim_delivery(
            session=session, key=record.key, how="passive"
        ):
            delivery = await messages.delivery_of(session=session, key=record.key)
        return record.reply or "" if delivery in (None, "passive") else ""

    async def close(self) -> None:
        """Finish the batch under way and its late replies."""
        if self._drainer is not None:
            await asyncio.gather(self._drainer, return_exceptions=True)
        if self._late:
            await asyncio.wait(self._late, timeout=10)
        if self._watchdog is not None:
            self._watchdog.cancel()

    async def _send_late(self, inbound: Inbound, reply: str) -> None:
        """The passive reply missed WeChat's deadline: send it through the outbox instead."""
        if not reply:
            return
        try:
            async with self.db.transaction() as session:
                queued = await messages.claim_delivery(
                    session=session, key=inbound.dedup_key, how="outbox"
                )
                if queued:
                    await outbox.enqueue(session=session, openid=inbound.openid, text=reply)
        except Exception:
            logger.exception("a late reply could not be queued")
            return
        if queued:
            self.on_queued()


def _small_talk(job: _Job, arrival: users.Arrival) -> bool:
    # What is answered without the sender's record: a greeting or thanks, no question pending.
    return job.parse is not None and job.parse.intent in SMALL_TALK and not arrival.dialog_flow


def _fail(job: _Job, exc: BaseException) -> None:
    if job.late:
        logger.error("a message answered late failed (%s)", exc.__class__.__name__)
    elif not job.future.done():
        job.future.set_exception(exc)
