"""The outbox delivered to WeChat after commit: merged per user, within WeChat's rules, retried.

Per user, from the database (shared/spec/wechat.md):
- inside the customer-service window and under its quota: customer-service text messages,
  the user's messages merged oldest first, a blank line apart, `merge_limit` characters each;
- otherwise one template message when `wechat.template_id` is set. WeChat shows 20 characters
  of a template field, so a message that does not fit stays pending (marked as announced) and
  goes out in full by customer service once the user answers. One announcement a user has not
  answered is enough for a while: what comes for them within `ANNOUNCE_EVERY` of it waits, and
  is announced with whatever else came meanwhile if they still have not answered by then (a
  volunteer away from the account gets a notification a minute at most, however busy the
  street, and WeChat's users block accounts that flood them);
- without a template the messages wait, untouched, until the user's next interaction makes
  them due again (storage/delivery.py). A slow re-check every `RECHECK` catches a template
  configured meanwhile; nothing spins.

Several processes may run this at once: each message is leased to one of them. Delivery is at
least once: what WeChat accepted during a batch (up to `users_per_batch` users) is marked sent,
and what must wait for its reader is handed back to wait, in one transaction when the batch
ends, before anything left is handed back; a crash before that leaves the batch's lease to run
out, after which another run sends its messages (or template announcements) again. One
transaction per batch rather than per user is what keeps delivery cheap under load: it cost
three statements and a commit per message before, more than the call to WeChat itself, and a
transaction of three statements per user whose messages waited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.background import Background
from bot.core.config import Config
from bot.core.errors import WeChatAPIError
from bot.wechat.client import WeChatClient, WeChatRateLimited, WeChatUnavailable
from storage import delivery, outbox, users
from storage.db import Database
from storage.models import OutboxMessage, User
from storage.reach import MESSAGE_QUOTA, custom_quota_left
from storage.redact import mask
from storage.types import utcnow

logger = logging.getLogger(__name__)

OUTSIDE_WINDOW, QUOTA_USED, NOT_FOLLOWING = 45015, 45047, 43004
TEMPLATE_FIELD = 20  # characters WeChat shows of a template field since May 2023
TEMPLATE_REMARK = "回复公众号查看详情"
JOINER = "\n\n"
RECHECK = timedelta(hours=6)
ANNOUNCE_EVERY = timedelta(minutes=1)  # at most one template a minute to a user
# An interaction being committed while we read users is at most this old (WeChat's 5 s deadline).
INTERACTION_GRACE = timedelta(seconds=10)
MAX_ROUNDS = 20  # batches per run, so stop() is never kept waiting by a long backlog
# Runs begin at least this far apart, and a run serves each user once: under load, what is
# queued meanwhile goes out merged in the next run rather than a claim, a call to WeChat and
# a transaction chasing every new message. A message waits a fifth of a second at most for it.
PACE = timedelta(seconds=0.2)
# Every claim drops what it takes that is no longer true, and a change to a request drops
# what it makes untrue; the rest of the queue is swept this often, as a sweep reads every
# queued message (storage/delivery.py: claim_due), and offers waiting for volunteers who do not
# answer can number tens of thousands on a busy street (every 10 s cost the real mix 6%).
SWEEP_EVERY = timedelta(minutes=1)
PAUSING = (WeChatUnavailable, WeChatRateLimited)  # WeChat as a whole asks us to wait


def merge(messages: Sequence[OutboxMessage], limit: int) -> list[list[OutboxMessage]]:
    """Runs of consecutive messages whose texts, joined by a blank line, fit in `limit`."""
    chunks: list[list[OutboxMessage]] = []
    size = 0
    for message in messages:
        grown = size + len(JOINER) + len(message.text)
        if chunks and grown <= limit:
            chunks[-1].append(message)
            size = grown
        else:  # a single message longer than the limit still goes, alone and whole
            chunks.append([message])
            size = len(message.text)
    return chunks


def template_data(texts: Sequence[str]) -> tuple[dict[str, str], bool]:
    """The generic template fields announcing `texts`, and whether they show them whole."""
    flat = " ".join(" ".join(text.split()) for text in texts)  # fields show no line breaks
    whole = len(flat) <= TEMPLATE_FIELD
    shown = flat if whole else flat[: TEMPLATE_FIELD - 1] + "…"
    header = "您有一条新消息" if len(texts) == 1 else f"您有{len(texts)}条新消息"
    return {"first": header, "keyword1": shown, "remark": TEMPLATE_REMARK}, whole


class _Pause(Exception):
    """WeChat as a whole asked us to wait (busy, unreachable, rate limited) until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


class Deliverer(Background):
    """Delivers the outbox: kicked after commits, polled as a safety net, one run at a time."""

    def __init__(
        self,
        db: Database,
        client: WeChatClient,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = timedelta(minutes=2),
        users_per_batch: int = 20,
        merge_limit: int = 1500,
        max_attempts: int = 3,
        retry_base: timedelta = timedelta(seconds=30),
        retry_cap: timedelta = timedelta(minutes=30),
    ) -> None:
        super().__init__("outbox-delivery", config.followups.poll_interval, PACE)
        self._db = db
        self._client = client
        self._template_id = config.wechat.template_id
        self._clock = clock
        self._lease = lease
        self._users_per_batch = max(1, users_per_batch)
        self._merge_limit = merge_limit
        self._max_attempts = max(1, max_attempts)
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._swept: datetime | None = None
        # What WeChat accepted in this batch, the customer-service messages to count against
        # their users' quotas, what waits for its reader (with whether any of it waits for a
        # new reason) and who was sent a template: recorded together when the batch ends.
        self._delivered: list[outbox.Delivered] = []
        self._counted: list[tuple[str, datetime]] = []
        self._waiting: list[tuple[delivery.Waiting, bool]] = []
        self._templated: list[tuple[str, datetime]] = []  # who got a template, and when

    # --- one run -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Deliver what is due now, in batches while they come back full; how many were sent."""
        async with self._running:
            sent = 0
            served: set[str] = set()
            for _ in range(MAX_ROUNDS):
                delivered, more = await self._batch(served)
                sent += delivered
                if not more or self._stopping:
                    break
            return sent

    async def _batch(self, served: set[str]) -> tuple[int, bool]:
        """Claim and deliver the due messages of up to `users_per_batch` users; how many were
        sent, and whether another batch should follow in this run: not when it came back
        short, nor once it reached users this run `served` already (whose new messages then
        wait for the next run)."""
        claimed_at = self._clock()
        sweep = self._swept is None or claimed_at - self._swept >= SWEEP_EVERY
        async with self._db.transaction() as session:
            claimed = await delivery.claim_due(
                session=session,
                now=claimed_at,
                lease=self._lease,
                users_limit=self._users_per_batch,
                sweep=sweep,
            )
            people = await users.by_openids(session=session, openids={m.openid for m in claimed})
        if sweep:
            self._swept = claimed_at
        by_user: dict[str, list[OutboxMessage]] = {}
        for message in claimed:
            by_user.setdefault(message.openid, []).append(message)
        ids = [m.id for m in claimed if m.id is not None]
        sent = 0
        give_back: datetime | None = None  # when what is left of the batch is due again
        try:
            for openid, messages in by_user.items():
                if self._clock() >= claimed_at + self._lease / 2:
                    # Give the rest back rather than send after our lease might have run out.
                    give_back = claimed_at
                    break
                sent += await self._to_user(openid, people.get(openid), messages)
        except _Pause as pause:
            give_back = pause.until
        finally:
            # First what was sent: handing the batch back makes whatever is unrecorded due.
            await self._record()
        if give_back is not None:
            await self._release(ids, give_back)
            return sent, give_back == claimed_at
        again = not served.intersection(by_user)
        served.update(by_user)
        return sent, again and len(by_user) == self._users_per_batch

    async def _to_user(self, openid: str, user: User | None, messages: list[OutboxMessage]) -> int:
        """Deliver one user's claimed messages; how many were sent."""
        if user is not None and not user.subscribed:
            await self._unsubscribed(openid, "user does not follow the account")
            return 0
        now = self._clock()
        # A later interaction, even one being committed as we read, makes these due again.
        seen = (user.last_interaction_at if user else None) or now - INTERACTION_GRACE
        left = custom_quota_left(user, now)
        chunks = merge(messages, self._merge_limit)
        sent = 0
        for index, chunk in enumerate(chunks):
            rest = [m for later in chunks[index:] for m in later]
            if left <= 0:
                return sent + await self._fall_back(user, openid, rest, seen, now, "window closed")
            try:
                await self._client.send_text(openid, JOINER.join(m.text for m in chunk))
            except WeChatAPIError as exc:
                if exc.errcode in (OUTSIDE_WINDOW, QUOTA_USED):
                    # Our view of the window was off: trust WeChat until the user writes again.
                    await self._use_up_quota(openid, user)
                    reason = f"errcode {exc.errcode}"
                    return sent + await self._fall_back(user, openid, rest, seen, now, reason)
                if await self._failed(openid, chunk, exc, seen, now):
                    return sent
                continue
            self._sent(openid, chunk, "custom", seen, counted=user)
            left -= 1
            sent += len(chunk)
        return sent

    async def _fall_back(
        self,
        user: User | None,
        openid: str,
        messages: list[OutboxMessage],
        seen: datetime,
        now: datetime,
        why: str,
    ) -> int:
        """Announce by template what customer service cannot carry now, or let it wait (until
        a minute after the last template, when one went out less than a minute ago)."""
        fresh = [m for m in messages if m.via != "template"]  # not announced yet
        if not self._template_id or not fresh:
            self._wait(messages, seen, now, f"waits for the user: {why}")
            return 0
        announced = user.template_sent_at if user is not None else None
        if announced is not None and now - announced < ANNOUNCE_EVERY:
            due = announced + ANNOUNCE_EVERY
            self._wait(messages, seen, now, f"announced a moment ago: {why}", due=due)
            return 0
        data, whole = template_data([m.text for m in fresh])
        try:
            await self._client.send_template(openid, self._template_id, data)
            self._templated.append((openid, now))
        except WeChatAPIError as exc:
            if isinstance(exc, PAUSING) or exc.errcode == NOT_FOLLOWING:
                await self._failed(openid, fresh, exc, seen, now)
                return 0
            # A refused template (often a wrong template_id) must not lose the messages.
            logger.warning("template to %s refused: errcode %s", mask(openid), exc.errcode)
            self._wait(messages, seen, now, f"template refused: errcode {exc.errcode}")
            return 0
        if whole:
            self._sent(openid, fresh, "template", seen)
            self._wait([m for m in messages if m.via == "template"], seen, now, why)
            return len(fresh)
        logger.info("announced %d message(s) to %s by template", len(fresh), mask(openid))
        self._wait(messages, seen, now, f"announced by template: {why}", via="template")
        return 0

    async def _failed(
        self,
        openid: str,
        messages: list[OutboxMessage],
        exc: WeChatAPIError,
        seen: datetime,
        now: datetime,
    ) -> bool:
        """Handle an error other than the window's; True when the user's turn is over."""
        if exc.errcode == NOT_FOLLOWING:
            await self._unsubscribed(openid, f"errcode {exc.errcode}: {exc.errmsg}")
            return True
        transient = isinstance(exc, PAUSING)
        attempts = max(m.attempts for m in messages) + 1
        # The exponent is bounded: transient errors never give up, and timedelta overflows.
        delay = min(self._retry_base * 2 ** min(attempts - 1, 20), self._retry_cap)
        if isinstance(exc, PAUSING):
            delay = max(delay, timedelta(seconds=exc.retry_after))
        give_up = not transient and attempts >= self._max_attempts
        ids = [m.id for m in messages if m.id is not None]
        async with self._db.transaction() as session:
            await outbox.mark_retry(
                session=session,
                ids=ids,
                error=f"errcode {exc.errcode}: {exc.errmsg}",
                at=now + delay,
                give_up=give_up,
            )
            await delivery.record_attempt(session=session, ids=ids, at=seen)
        how = "failed for good" if give_up else f"retry in {delay.total_seconds():.0f}s"
        logger.warning("to %s: errcode %s, %s", mask(openid), exc.errcode, how)
        if transient:
            raise _Pause(now + delay)
        return False

    # --- what became of the messages: deliveries with the batch, the rest each on its own -----

    def _sent(
        self,
        openid: str,
        messages: list[OutboxMessage],
        via: str,
        seen: datetime,
        *,
        counted: User | None = None,
    ) -> None:
        """Note a delivery, recorded with the batch's others; `counted` is the user whose
        customer-service quota it used."""
        ids = [m.id for m in messages if m.id is not None]
        self._delivered.append(outbox.Delivered(ids, via, seen))
        if counted is not None and counted.last_interaction_at is not None:
            self._counted.append((openid, counted.last_interaction_at))
        logger.info("delivered %d message(s) to %s by %s", len(ids), mask(openid), via)

    async def _record(self) -> None:
        """Record the batch's deliveries (sent, and counted against the quotas they used) and
        what waits for its reader, in one transaction."""
        delivered, counted, waiting = self._delivered, self._counted, self._waiting
        templated = self._templated
        if not delivered and not waiting:
            return
        self._delivered, self._counted, self._waiting, self._templated = [], [], [], []
        held = [w for w, _ in waiting]
        async with self._db.transaction() as session:
            await outbox.mark_sent(session=session, delivered=delivered)
            await delivery.count_custom_sent(session=session, sent=counted)
            await delivery.note_templates_sent(session=session, sent=templated)
            # Logged once per user and reason: messages piling up behind ones already waiting
            # for the same reason, or re-checked, are no news to an operator.
            told = await delivery.already_waiting(
                session=session, waiting=[w for w, new_reason in waiting if new_reason]
            )
            await delivery.wait(session=session, waiting=held)
        for w, new_reason in waiting:
            news = new_reason and (w.openid, w.note) not in told
            logger.log(
                logging.INFO if news else logging.DEBUG,
                "%d message(s) to %s wait for the user (%s)",
                len(w.ids),
                mask(w.openid),
                w.note,
            )

    def _wait(
        self,
        messages: list[OutboxMessage],
        seen: datetime,
        now: datetime,
        note: str,
        *,
        via: str | None = None,
        due: datetime | None = None,
    ) -> None:
        """Note that these messages wait for their reader (or, at the latest, until `due`),
        recorded with the batch."""
        ids = [m.id for m in messages if m.id is not None]
        if not ids:
            return
        held = delivery.Waiting(messages[0].openid, ids, due or now + RECHECK, seen, note, via)
        self._waiting.append((held, any(m.last_error != held.note for m in messages)))

    async def _release(self, ids: list[int], at: datetime) -> None:
        async with self._db.transaction() as session:
            await delivery.release(session=session, ids=ids, at=at)

    async def _use_up_quota(self, openid: str, user: User | None) -> None:
        if user is None or user.last_interaction_at is None:
            return
        async with self._db.transaction() as session:
            await delivery.use_up_custom_quota(
                session=session,
                openid=openid,
                since=user.last_interaction_at,
                quota=MESSAGE_QUOTA,
            )

    async def _unsubscribed(self, openid: str, error: str) -> None:
        async with self._db.transaction() as session:
            failed = await delivery.mark_unsubscribed(session=session, openid=openid, error=error)
        logger.info("%s does not follow the account; %d message(s) failed", mask(openid), failed)
