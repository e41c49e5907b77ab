"""A limit on WeChat calls per minute, on a clock that tests can move."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from storage.types import utcnow

MINUTE = timedelta(minutes=1)


class RateLimiter:
    """At most `per_minute` calls in any sixty seconds (WeChat counts a sliding minute)."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limit = max(1, per_minute)
        self._clock = clock
        self._sleep = sleep
        self._times: deque[datetime] = deque()

    async def acquire(self) -> None:
        """Wait until one more call fits in the last minute, and count it."""
        while True:
            now = self._clock()
            while self._times and now - self._times[0] >= MINUTE:
                self._times.popleft()
            if len(self._times) < self._limit:
                self._times.append(now)
                return
            await self._sleep((self._times[0] + MINUTE - now).total_seconds())
