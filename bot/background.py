"""A run in the background: kicked after a commit, polled as a safety net, one at a time.

The outbox's deliverer and the broadcast engine both work this way: what they have to do is in
the database, a kick only says "look now", and stop() lets the run under way finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from abc import ABC, abstractmethod
from datetime import timedelta

logger = logging.getLogger(__name__)


class Background(ABC):
    """Runs `run_once` when kicked and every `interval`, and never sooner than `pace` after the
    last run began (kicks meanwhile coalesce into the next run); subclasses hold `_running`
    while they work and check `_stopping` between steps."""

    def __init__(self, name: str, interval: timedelta, pace: timedelta = timedelta(0)) -> None:
        self._name = name
        self._interval = interval
        self._pace = pace.total_seconds()
        self._wake = asyncio.Event()
        self._running = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @abstractmethod
    async def run_once(self) -> int:
        """One run: do what is due now."""

    def kick(self) -> None:
        """Ask for a run soon (call after committing new work); kicks coalesce."""
        self._wake.set()

    async def start(self) -> None:
        """Run in the background: when kicked, and every interval as a safety net."""
        if self._task is None:
            self._stopping = False
            self._wake.set()  # whatever was left waiting before we started
            self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        """Let the current run finish, then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        async with self._running:
            task.cancel()
        await asyncio.wait([task])

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        began = -math.inf
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval.total_seconds()):
                    await self._wake.wait()
            await asyncio.sleep(max(0.0, began + self._pace - loop.time()))
            self._wake.clear()
            began = loop.time()
            try:
                await self.run_once()
            except Exception as exc:  # the safety net must outlive one bad run (database down)
                # Only the class: a driver's message can quote the statement's parameters.
                logger.error("%s run failed: %s", self._name, exc.__class__.__name__)
