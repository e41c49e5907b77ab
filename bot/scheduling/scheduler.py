"""APScheduler 3 with its job store in the project's database: the follow-up sweep, the morning
digest and the retention purge.

The jobs are plain functions taking plain names (so the persistent store can hold them) and
run on the scheduler's own thread, so the store's synchronous I/O never stalls the event loop;
each hands its work to the loop. What a job does is idempotent and claimed in the database
(handlers/followups.py), so several schedulers over one store never fire anything twice, and a
run missed while the process was down happens once when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.config import Config
from handlers import followups
from storage.db import Database
from storage.types import utcnow

logger = logging.getLogger(__name__)

Job = Callable[[Database, Config, datetime], Awaitable[int]]
JOBS: dict[str, Job] = {
    "sweep": followups.sweep,
    "digest": followups.digest,
    "purge": followups.purge,
}
JOB_TIMEOUT = 300.0
PURGE_AT = (3, 30)  # local time of the daily retention purge, when nobody is chatting

# The process's running scheduler, which the persistent jobs (plain functions) hand work to.
_running: FollowupScheduler | None = None


def run_job(name: str) -> None:
    """The entry point of every persistent job (runs on a scheduler thread)."""
    scheduler = _running
    if scheduler is None:
        logger.warning("job %s fired with no scheduler running in this process", name)
        return
    scheduler.run_from_thread(name)


def sync_url(url: str) -> str:
    """The synchronous driver's URL of the database (APScheduler's store is synchronous)."""
    return url.replace("sqlite+aiosqlite://", "sqlite://").replace(
        "postgresql+asyncpg://", "postgresql+psycopg://"
    )


class FollowupScheduler:
    """Runs the follow-up jobs of one process against the shared database."""

    def __init__(self, config: Config, db: Database, on_queued: Callable[[], None]) -> None:
        self.config = config
        self.db = db
        self.on_queued = on_queued
        self._loop: asyncio.AbstractEventLoop | None = None
        self._aps: BackgroundScheduler | None = None

    async def start(self) -> None:
        """Start the scheduler thread and (re)register the jobs in the persistent store."""
        global _running
        if _running is not None:
            raise RuntimeError("a follow-up scheduler already runs in this process")
        self._loop = asyncio.get_running_loop()
        _running = self
        try:
            await asyncio.to_thread(self._start_thread)
        except BaseException:
            _running = None
            raise
        logger.info("follow-up scheduler started")

    def _start_thread(self) -> None:
        config, tz = self.config, self.config.org.tz
        aps = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(
                    url=sync_url(config.database.url), tablename="apscheduler_jobs"
                ),
                # The sweep is re-added at every start and its work is found in the database,
                # so it needs no persistence; kept in memory, it does not write its next run
                # time to the database every few seconds, taking the write lock from the webhook.
                "memory": MemoryJobStore(),
            },
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
            timezone=tz,
        )
        aps.start()
        with contextlib.suppress(JobLookupError):  # kept in the database by earlier versions
            aps.remove_job("followups.sweep", jobstore="default")
        poll = config.followups.poll_interval.total_seconds()
        digest = config.followups.digest_at
        aps.add_job(
            run_job,
            IntervalTrigger(seconds=poll, timezone=tz),
            args=["sweep"],
            id="followups.sweep",
            name="follow-ups",
            jobstore="memory",
            replace_existing=True,
            next_run_time=datetime.now(tz) + timedelta(seconds=0.2),
        )
        aps.add_job(
            run_job,
            CronTrigger(hour=digest.hour, minute=digest.minute, timezone=tz),
            args=["digest"],
            id="followups.digest",
            name="morning digest",
            replace_existing=True,
        )
        aps.add_job(
            run_job,
            CronTrigger(hour=PURGE_AT[0], minute=PURGE_AT[1], timezone=tz),
            args=["purge"],
            id="privacy.purge",
            name="retention purge",
            replace_existing=True,
        )
        self._aps = aps

    def run_from_thread(self, name: str) -> None:
        """Run job `name` on the event loop and wait for it (called on a scheduler thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            future = asyncio.run_coroutine_threadsafe(self.run(name), loop)
        except RuntimeError:  # the loop is shutting down
            return
        try:
            future.result(timeout=JOB_TIMEOUT)
        except FutureTimeout:
            logger.error("job %s ran longer than %.0fs", name, JOB_TIMEOUT)
        except Exception:
            logger.exception("job %s failed", name)

    async def run(self, name: str) -> int:
        """Run one job now on the loop; have what it queued delivered."""
        queued = await JOBS[name](self.db, self.config, utcnow())
        if queued:
            self.on_queued()
        return queued

    async def stop(self) -> None:
        """Stop the scheduler thread, letting a running job finish."""
        global _running
        if self._aps is not None:
            await asyncio.to_thread(self._aps.shutdown, True)
            self._aps = None
        if _running is self:
            _running = None
        logger.info("follow-up scheduler stopped")
