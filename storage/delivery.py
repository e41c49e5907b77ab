"""Outbox delivery bookkeeping: which messages are due, per user, and what became of them.

`attempted_at` is the moment up to which the user's interactions were taken into account when
a message was last tried. An interaction after it makes the message due again at once, even if
its `next_attempt_at` lies far ahead: that is how a message waiting for the 48-hour window goes
out as soon as the user writes again, without anything polling WeChat meanwhile.

A pending message with `via = "template"` has been announced by a template message whose
20-character field could not hold it; it waits for the user's reply to go out in full.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage import relevance, users
from storage.models import OutboxMessage, User
from storage.outbox import reason
from storage.sql import affected, insert_for

logger = logging.getLogger(__name__)


def _due(now: datetime) -> ColumnElement[bool]:
    # Written so that each branch of the OR starts from an index, never from every pending
    # message: messages that wait for their reader (an offer announced by template, say) pile
    # up by the thousand under load, and every claim used to read them all (issue 15).
    interacted = exists().where(
        col(User.openid) == col(OutboxMessage.openid),
        col(User.last_interaction_at) > col(OutboxMessage.attempted_at),
    )
    waiting = aliased(OutboxMessage)
    # The people who wrote since one of their waiting messages was tried: one probe of the
    # (openid, status, attempted_at) index per person.
    wrote_since = select(col(User.openid)).where(
        exists().where(
            col(waiting.openid) == col(User.openid),
            col(waiting.status) == "pending",
            col(waiting.attempted_at) < col(User.last_interaction_at),
        )
    )
    fresh = or_(col(OutboxMessage.expires_at).is_(None), col(OutboxMessage.expires_at) > now)
    pending = col(OutboxMessage.status) == "pending"
    return or_(
        and_(pending, fresh, col(OutboxMessage.next_attempt_at) <= now),
        and_(pending, fresh, col(OutboxMessage.openid).in_(wrote_since), interacted),
        # A claimer that died mid-run: its lease runs out and the message is anyone's again.
        and_(col(OutboxMessage.status) == "sending", col(OutboxMessage.lease_until) < now),
    )


async def claim_due(
    *,
    session: AsyncSession,
    now: datetime,
    lease: timedelta,
    users_limit: int = 20,
    sweep: bool = True,
) -> list[OutboxMessage]:
    """Lease every due message of up to `users_limit` users (oldest first) to this process.

    Messages no longer true are dropped first: with `sweep`, every one of them; without,
    only those about to be claimed (a sweep reads every queued message, so a deliverer under
    load sweeps now and then, not on every claim)."""
    # An offer nobody took while its reader was away is stale news: never send it later.
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == "pending", col(OutboxMessage.expires_at) <= now)
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    if sweep:
        await _drop_stale(session, now, None)
    due = _due(now)
    openids = (
        await session.scalars(
            select(col(OutboxMessage.openid))
            .where(due)
            .group_by(col(OutboxMessage.openid))
            .order_by(func.min(OutboxMessage.id))
            .limit(users_limit)
        )
    ).all()
    if not openids:
        return []
    if not sweep:
        # Only what is due: a reader who never answers may have thousands of messages
        # waiting, and a claim that re-checked them all grew slower with every one.
        await _drop_stale(session, now, openids, due)
    # Claiming a user's messages together lets them go out merged. The guarded UPDATE is the
    # lease: a row another process claimed meanwhile is no longer due, so exactly one gets it.
    result = await session.scalars(
        update(OutboxMessage)
        .where(col(OutboxMessage.openid).in_(openids), due)
        .values(status="sending", lease_until=now + lease)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.all(), key=lambda message: message.id or 0)


async def _drop_stale(
    session: AsyncSession,
    now: datetime,
    openids: Sequence[str] | None,
    among: ColumnElement[bool] | None = None,
) -> None:
    dropped = await relevance.drop_stale(session=session, now=now, openids=openids, among=among)
    if dropped:
        logger.info("dropped %d queued message(s) no longer true", dropped)


async def record_attempt(*, session: AsyncSession, ids: Collection[int], at: datetime) -> None:
    """Note that these messages were tried with the user's interactions up to `at` in view."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(list(ids)))
            .values(attempted_at=at)
        )


async def release(*, session: AsyncSession, ids: Collection[int], at: datetime) -> None:
    """Give those of these messages still leased back as pending, due at `at`, no attempt
    counted (what waits for its reader, with a reason, goes back by `wait`)."""
    if not ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(list(ids)), col(OutboxMessage.status) == "sending")
        .values(status="pending", next_attempt_at=at, lease_until=None)
    )


@dataclass(frozen=True, slots=True)
class Waiting:
    """Leased messages of one user that could not go now: pending again, due at `at` or at
    the user's first interaction after `seen`, for the reason `note`; `via` "template" once a
    template announced them."""

    openid: str
    ids: Sequence[int]
    at: datetime
    seen: datetime
    note: str  # cut to what the outbox keeps of it, so that it compares with what is kept
    via: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "note", reason(self.note))


_OUTBOX = cast(Table, OutboxMessage.__table__)  # type: ignore[attr-defined]
_USERS = cast(Table, User.__table__)  # type: ignore[attr-defined]
_WAIT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("message_id"), _OUTBOX.c.status == "sending")
    .values(
        status="pending",
        next_attempt_at=bindparam("due_at"),
        lease_until=None,
        last_error=bindparam("why"),
        via=func.coalesce(bindparam("announced", type_=_OUTBOX.c.via.type), _OUTBOX.c.via),
        attempted_at=bindparam("seen"),
    )
)


async def wait(*, session: AsyncSession, waiting: Sequence[Waiting]) -> None:
    """Give these leased messages back to wait, in one statement however many they are (a
    message no longer leased, dropped meanwhile as no longer true, is left as it is)."""
    rows = [
        {"message_id": id_, "due_at": w.at, "why": w.note, "announced": w.via, "seen": w.seen}
        for w in waiting
        for id_ in w.ids
    ]
    if rows:
        await session.execute(_WAIT, rows)


async def waiting_for_reader(
    *, session: AsyncSession, openid: str, now: datetime, limit: int = 99
) -> int:
    """How many messages to `openid` waited for them to write (tried, not sent: outside the
    window, over the quota, announced by template) and go out now that they did: pending,
    unexpired and still true; counted up to `limit` (a volunteer who never answers may have
    thousands waiting)."""
    waiting = (
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.openid) == openid,
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.attempted_at).is_not(None),
            or_(col(OutboxMessage.expires_at).is_(None), col(OutboxMessage.expires_at) > now),
            relevance.still_true(),
        )
        .limit(limit)
        .subquery()
    )
    found = await session.scalar(select(func.count()).select_from(waiting))
    return int(found or 0)


async def already_waiting(
    *, session: AsyncSession, waiting: Sequence[Waiting]
) -> set[tuple[str, str]]:
    """Of these users and reasons, those for which other messages already wait: read before
    `wait` (leased messages, as these are until then, do not count), one statement per reason.
    Each user's pending messages are probed only until one matches: a volunteer who never
    answers may have thousands waiting."""
    by_note: dict[str, set[str]] = {}
    for w in waiting:
        by_note.setdefault(w.note, set()).add(w.openid)
    found: set[tuple[str, str]] = set()
    for note, openids in by_note.items():
        # One probe per reader, each stopping at its first match (a VALUES list would join
        # the same way, but SQLite cannot name its columns).
        probes = [
            select(literal(openid, _OUTBOX.c.openid.type)).where(
                exists().where(
                    _OUTBOX.c.openid == openid,
                    _OUTBOX.c.status == "pending",
                    _OUTBOX.c.last_error == note,
                )
            )
            for openid in sorted(openids)
        ]
        rows = await session.scalars(union_all(*probes) if len(probes) > 1 else probes[0])
        found.update((openid, note) for openid in rows)
    return found


# Guarded by the interaction: if the user wrote again meanwhile, the fresh quota stays whole.
_COUNT_CUSTOM = (
    update(_USERS)
    .where(_USERS.c.openid == bindparam("to"), _USERS.c.last_interaction_at == bindparam("since"))
    .values(cs_sent_since_interaction=_USERS.c.cs_sent_since_interaction + 1)
)


async def count_custom_sent(*, session: AsyncSession, sent: Sequence[tuple[str, datetime]]) -> None:
    """Count customer-service messages against their users' quotas: one per (openid, the
    interaction `since` which it was sent), in one statement."""
    if sent:
        await session.execute(_COUNT_CUSTOM, [{"to": o, "since": since} for o, since in sent])


async def note_templates_sent(
    *, session: AsyncSession, sent: Sequence[tuple[str, datetime]]
) -> None:
    """Remember when each of these people was sent a template message, in one statement.

    Someone sent templates without ever writing to the account (a duty worker named in the
    configuration) gets a user row here: without one, nothing would hold them to one a minute.
    """
    if not sent:
        return
    new = insert_for(session, _USERS)
    upsert = new.on_conflict_do_update(
        index_elements=["openid"], set_={"template_sent_at": new.excluded.template_sent_at}
    )
    latest = dict(sent)  # one row per person, whatever the caller passed
    await session.execute(
        upsert,
        [{"openid": o, "created_at": at, "template_sent_at": at} for o, at in latest.items()],
    )


async def use_up_custom_quota(
    *, session: AsyncSession, openid: str, since: datetime, quota: int
) -> None:
    """Record that WeChat refused more customer-service messages after the interaction at `since`."""
    await session.execute(
        update(User)
        .where(
            col(User.openid) == openid,
            col(User.last_interaction_at) == since,
            col(User.cs_sent_since_interaction) < quota,
        )
        .values(cs_sent_since_interaction=quota)
    )


async def mark_unsubscribed(*, session: AsyncSession, openid: str, error: str) -> int:
    """The user no longer follows the account: mark them so and fail their undelivered messages."""
    await users.set_subscribed(session=session, openid=openid, subscribed=False)
    return await affected(
        session,
        update(OutboxMessage)
        .where(
            col(OutboxMessage.openid) == openid,
            col(OutboxMessage.status).in_(("pending", "sending")),
        )
        .values(status="failed", last_error=reason(error), lease_until=None),
    )
