"""APScheduler 3 with its job store in the project's database: the follow-up sweep, the morning
digest and the retention purge.

A job is stored as a plain function and a plain name (`job_named`, "digest"), which the
persistent store can hold; called, it gives the follow-up to run (handlers/followups.py).
APScheduler runs on a thread of its own, so the store's synchronous I/O never stalls the event
loop; the executor that runs the due jobs belongs to this process's FollowupScheduler, and
hands each follow-up to its event loop with its database and config: nothing global says
which scheduler runs in this process. What a job does is idempotent and claimed in the
database (storage/followups.py), so several schedulers over one store never fire anything
twice, and a run missed while the process was down happens once when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
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


def job_named(name: str) -> Job:
    """The follow-up a stored job names (the callable the job store keeps, with the name)."""
    return JOBS[name]


def sync_url(url: str) -> str:
    """The synchronous driver's URL of the database (APScheduler's store is synchronous)."""
    return url.replace("sqlite+aiosqlite://", "sqlite://").replace(
        "postgresql+asyncpg://", "postgresql+psycopg://"
    )


class _ToTheLoop(BaseExecutor):
    """APScheduler's executor for one FollowupScheduler: a pool thread hands the follow-up each
    due job names to that scheduler's event loop and waits for it."""

    def __init__(self, owner: FollowupScheduler, threads: int) -> None:
        super().__init__()
        self._owner = owner
        self._pool = ThreadPoolExecutor(threads)

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        future = self._pool.submit(self._run, job, run_times)
        future.add_done_callback(lambda done: self._finished(job.id, done))

    def _run(self, job: Any, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events = []
        for run_time in run_times:
            # As APScheduler's own executors do: a run later than its grace time is skipped.
            late = datetime.now(UTC) - run_time
            if job.misfire_grace_time is not None and late > timedelta(
                seconds=job.misfire_grace_time
            ):
                self._logger.warning('Run time of job "%s" was missed by %s', job, late)
                kind = EVENT_JOB_MISSED
            else:
                self._owner.run_from_thread(job.func(*job.args, **job.kwargs))
                kind = EVENT_JOB_EXECUTED
            events.append(JobExecutionEvent(kind, job.id, job._jobstore_alias, run_time))
        return events

    def _finished(self, job_id: str, done: Future[list[JobExecutionEvent]]) -> None:
        error = done.exception()
        if error is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, done.result())

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait)


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
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._start_thread)
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
            executors={"default": _ToTheLoop(self, threads=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
            timezone=tz,
        )
        aps.start()
        with contextlib.suppress(JobLookupError):  # kept in the database by earlier versions
            aps.remove_job("followups.sweep", jobstore="default")
        poll = config.followups.poll_interval.total_seconds()
        digest = config.followups.digest_at
        aps.add_job(
            job_named,
            IntervalTrigger(seconds=poll, timezone=tz),
            args=["sweep"],
            id="followups.sweep",
            name="follow-ups",
            jobstore="memory",
            replace_existing=True,
            next_run_time=datetime.now(tz) + timedelta(seconds=0.2),
        )
        aps.add_job(
            job_named,
            CronTrigger(hour=digest.hour, minute=digest.minute, timezone=tz),
            args=["digest"],
            id="followups.digest",
            name="morning digest",
            replace_existing=True,
        )
        aps.add_job(
            job_named,
            CronTrigger(hour=PURGE_AT[0], minute=PURGE_AT[1], timezone=tz),
            args=["purge"],
            id="privacy.purge",
            name="retention purge",
            replace_existing=True,
        )
        self._aps = aps

    def run_from_thread(self, job: Job) -> None:
        """Run `job` on the event loop and wait for it (called on a scheduler thread)."""
        name, loop = job.__name__, self._loop
        if loop is None or loop.is_closed():
            return
        try:
            future = asyncio.run_coroutine_threadsafe(self.run(job), loop)
        except RuntimeError:  # the loop is shutting down
            return
        try:
            future.result(timeout=JOB_TIMEOUT)
        except FutureTimeout:
            logger.error("job %s ran longer than %.0fs", name, JOB_TIMEOUT)
        except Exception:
            logger.exception("job %s failed", name)

    async def run(self, job: Job) -> int:
        """Run one job now on the loop; have what it queued delivered."""
        queued = await job(self.db, self.config, utcnow())
        if queued:
            self.on_queued()
        return queued

    async def stop(self) -> None:
        """Stop the scheduler thread, letting a running job finish."""
        if self._aps is not None:
            await asyncio.to_thread(self._aps.shutdown, True)
            self._aps = None
        logger.info("follow-up scheduler stopped")
