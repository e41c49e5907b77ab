"""The delivery engine: due notices out through WeChat's mass send, batch by batch, within the
rate limit and WeChat's quotas; resumable after a crash and never twice to one person.

Each step is a short transaction in storage/broadcast_delivery.py: fix the recipients (one row
each), form a batch (number its rows), call WeChat, settle the batch (mark its rows). A crash
between forming and settling leaves the batch in flight; the next engine sends it again with
the same clientmsgid, which WeChat refuses (45065) if the first call went through, and that
answer counts as sent. Busy (-1) and rate limits (45009) back off and retry the same batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.background import Background
from bot.broadcasting.ratelimit import RateLimiter
from bot.broadcasting.tagsync import TagSync
from bot.core.config import Config
from bot.core.errors import WeChatAPIError
from bot.wechat.client import UNREACHABLE, WeChatClient, WeChatRateLimited, WeChatUnavailable
from handlers.broadcast import rules_for
from storage import broadcast_batches as batches
from storage import broadcast_delivery as bd
from storage import users
from storage.broadcasts import Rules
from storage.db import Database
from storage.errors import Conflict
from storage.models import BroadcastState, DeliveryState
from storage.types import utcnow

logger = logging.getLogger(__name__)

CLIENTMSGID_SPAN = timedelta(hours=23)  # WeChat remembers a clientmsgid 24 h; keep a margin
BACKOFF_BASE, BACKOFF_CAP = timedelta(seconds=30), timedelta(minutes=30)
NOT_FOLLOWING, OUTSIDE_WINDOW, CUSTOM_QUOTA = 43004, 45015, 45047
FOOTER = "\n\n（回复“退订”不再接收社区通知）"


class BroadcastEngine(Background):
    """Sends due notices: kicked, and polled every `[followups] poll_interval` as a safety net."""

    def __init__(
        self,
        db: Database,
        client: WeChatClient,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        owner: str | None = None,
    ) -> None:
        super().__init__("broadcast-delivery", config.followups.poll_interval)
        self._db = db
        self._client = client
        self._config = config
        self._clock = clock
        self._limiter = RateLimiter(config.broadcast.calls_per_minute, clock=clock, sleep=sleep)
        self._tags = TagSync(db, client, clock=clock)
        # Only the rate needs one engine at a time (clientmsgids keep even two from sending
        # twice), so the lease is short: a restart after a crash takes over soon.
        self._lease = max(timedelta(seconds=5), config.followups.poll_interval * 10)
        self._owner = owner or f"pid{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._rules: Rules | None = None

    # --- one run -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Send every due notice as far as quotas allow; how many batches were settled."""
        async with self._running:
            await self._tags.refresh_if_stale()
            async with self._db.transaction() as session:
                due = await bd.due(session=session, now=self._clock(), owner=self._owner)
            settled = 0
            for broadcast_id in due:
                if self._stopping:
                    break
                settled += await self._work_on(broadcast_id)
            return settled

    async def _work_on(self, broadcast_id: int) -> int:
        if not await self._renew(broadcast_id):
            return 0
        try:
            return await self._deliver(broadcast_id)
        except Conflict:
            return 0  # another engine got to this step first; it carries on
        finally:
            async with self._db.transaction() as session:
                await bd.release(session=session, broadcast_id=broadcast_id, owner=self._owner)

    async def _renew(self, broadcast_id: int) -> bool:
        async with self._db.transaction() as session:
            return await bd.claim(
                session=session,
                broadcast_id=broadcast_id,
                owner=self._owner,
                now=self._clock(),
                lease=self._lease,
            )

    async def _deliver(self, broadcast_id: int) -> int:
        rules = await self._load_rules()
        settled = 0
        while not self._stopping and await self._renew(broadcast_id):
            async with self._db.transaction() as session:
                broadcast = await bd.load(session=session, broadcast_id=broadcast_id)
            if broadcast.state == BroadcastState.SCHEDULED:
                await self._fix_recipients(broadcast_id, broadcast.tag_id, rules)
                continue
            if broadcast.state != BroadcastState.SENDING:
                return settled
            now = self._clock()
            async with self._db.transaction() as session:
                broadcast = await bd.load(session=session, broadcast_id=broadcast_id)
                leftover = broadcast.in_flight is not None
                if leftover:
                    batch: batches.Batch | batches.Wait | None = await batches.in_flight(
                        session=session, broadcast=broadcast
                    )
                else:
                    batch = await batches.next_batch(
                        session=session, broadcast=broadcast, rules=rules, now=now
                    )
                if batch is None:
                    await batches.finish_if_done(
                        session=session, broadcast_id=broadcast_id, now=now
                    )
                    logger.info("broadcast %d delivered", broadcast_id)
                    return settled
                if isinstance(batch, batches.Wait):
                    await batches.wait_until(
                        session=session, broadcast_id=broadcast_id, until=batch.until
                    )
                    logger.warning(
                        "broadcast %d waits for the daily mass-send quota until %s",
                        broadcast_id,
                        batch.until.isoformat(),
                    )
                    return settled
            if not await self._send(batch, rules, leftover=leftover):
                return settled  # backing off: due again later
            settled += 1
        return settled

    async def _fix_recipients(self, broadcast_id: int, tag_id: int | None, rules: Rules) -> None:
        # A whole tag goes by tag only if WeChat's members are known to be ours right now.
        fresh = tag_id is not None and await self._tags.refresh_members(tag_id)
        async with self._db.transaction() as session:
            broadcast = await bd.load(session=session, broadcast_id=broadcast_id)
            plan = await bd.fix_recipients(
                session=session,
                broadcast=broadcast,
                rules=rules,
                now=self._clock(),
                tag_fresh=fresh,
            )
        logger.info("broadcast %d: recipients fixed, sending by %s", broadcast_id, plan)

    async def _load_rules(self) -> Rules:
        if self._rules is None:
            async with self._db.transaction() as session:
                self._rules = await rules_for(session, self._config)
        return self._rules

    # --- one batch -----------------------------------------------------------------------------

    async def _send(self, batch: batches.Batch, rules: Rules, *, leftover: bool) -> bool:
        """Send one batch and settle it; False when it has to wait (backing off)."""
        now = self._clock()
        if not batch.openids:
            await self._settle(batch, rules, DeliveryState.SENT)
            return True
        if leftover and now - batch.formed_at > CLIENTMSGID_SPAN:
            # WeChat no longer remembers the clientmsgid: sending again could send twice.
            await self._settle(batch, rules, DeliveryState.FAILED, "not sent within 24 hours")
            return True
        if batch.via == "custom" and leftover:
            if not batch.retry:
                # Customer-service messages carry no clientmsgid: never risk a second one.
                await self._settle(batch, rules, DeliveryState.FAILED, "outcome unknown")
                return True
            async with self._db.transaction() as session:
                if not await batches.start_retry(session=session, batch=batch):
                    return False
        await self._limiter.acquire()
        try:
            await self._call(batch)
        except (WeChatRateLimited, WeChatUnavailable) as exc:
            unknown = isinstance(exc, WeChatUnavailable) and exc.errcode == UNREACHABLE
            if batch.via == "custom" and unknown:
                await self._settle(batch, rules, DeliveryState.FAILED, "outcome unknown")
                return True
            await self._back_off(batch, exc)
            return False
        except WeChatAPIError as exc:
            await self._refused(batch, rules, exc)
            return True
        await self._settle(batch, rules, DeliveryState.SENT)
        return True

    async def _call(self, batch: batches.Batch) -> None:
        text = batch.text + FOOTER
        if batch.via == "tag":
            assert batch.tag_id is not None
            await self._client.mass_send_to_tag(batch.tag_id, text, batch.clientmsgid)
        elif batch.via == "openids":
            await self._client.mass_send_to_openids(batch.openids, text, batch.clientmsgid)
        else:
            await self._client.send_text(batch.openids[0], text)

    async def _refused(self, batch: batches.Batch, rules: Rules, exc: WeChatAPIError) -> None:
        if exc.errcode == 45065:
            # "clientmsgid exist": this very batch already went, before a crash or a lost answer.
            logger.info("broadcast %d batch %d had gone already", batch.broadcast_id, batch.number)
            await self._settle(batch, rules, DeliveryState.SENT)
            return
        if batch.via == "custom" and exc.errcode in (OUTSIDE_WINDOW, CUSTOM_QUOTA):
            await self._settle(batch, rules, DeliveryState.SKIPPED_WINDOW, f"errcode {exc.errcode}")
            return
        if batch.via == "custom" and exc.errcode == NOT_FOLLOWING:
            async with self._db.transaction() as session:
                await users.set_subscribed(
                    session=session, openid=batch.openids[0], subscribed=False
                )
        logger.warning(
            "broadcast %d batch %d refused: errcode %s %s",
            batch.broadcast_id,
            batch.number,
            exc.errcode,
            exc.errmsg,
        )
        await self._settle(batch, rules, DeliveryState.FAILED, f"errcode {exc.errcode}")

    async def _settle(
        self, batch: batches.Batch, rules: Rules, state: DeliveryState, error: str | None = None
    ) -> None:
        async with self._db.transaction() as session:
            await batches.settle(
                session=session,
                batch=batch,
                state=state,
                rules=rules,
                now=self._clock(),
                error=error,
            )

    async def _back_off(
        self, batch: batches.Batch, exc: WeChatRateLimited | WeChatUnavailable
    ) -> None:
        async with self._db.transaction() as session:
            broadcast = await bd.load(session=session, broadcast_id=batch.broadcast_id)
            delay = min(BACKOFF_BASE * 2**broadcast.attempts, BACKOFF_CAP)
            delay = max(delay, timedelta(seconds=exc.retry_after))
            await batches.back_off(
                session=session,
                batch=batch,
                until=self._clock() + delay,
                error=f"errcode {exc.errcode}: {exc.errmsg}",
            )
        logger.warning(
            "broadcast %d batch %d: WeChat asks to wait (errcode %s); again in %.0fs",
            batch.broadcast_id,
            batch.number,
            exc.errcode,
            delay.total_seconds(),
        )
