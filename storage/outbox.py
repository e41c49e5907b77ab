"""The outbox: messages to users, written with the change that caused them, delivered after."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import OutboxMessage
from storage.types import utcnow

REASON_LENGTH = 250  # of what a message's last_error keeps (the column holds 256)


def reason(text: str) -> str:
    """`text` as a message's last_error keeps it: why it waits, or how it last failed."""
    return text[:REASON_LENGTH]


async def enqueue(
    *,
    session: AsyncSession,
    openid: str,
    text: str,
    expires_at: datetime | None = None,
    request_id: int | None = None,
    purpose: str | None = None,
) -> OutboxMessage:
    """Queue a message to `openid`; it is delivered once the transaction commits (and not at
    all once `expires_at` has passed, or once the `purpose` it serves for request #`request_id`
    no longer holds: storage/relevance.py)."""
    message = OutboxMessage(
        openid=openid, text=text, expires_at=expires_at, request_id=request_id, purpose=purpose
    )
    session.add(message)
    await session.flush()
    return message


_TABLE = cast(Table, OutboxMessage.__table__)  # type: ignore[attr-defined]
_INSERT = insert(_TABLE)


async def enqueue_many(
    *,
    session: AsyncSession,
    openids: Iterable[str],
    text: str,
    expires_at: datetime | None = None,
    request_id: int | None = None,
    purpose: str | None = None,
) -> int:
    """Queue the same message to each of `openids` (once each) in one statement, as
    enqueue() does one; returns how many were queued."""
    rows = [
        {
            "openid": openid,
            "text": text,
            "expires_at": expires_at,
            "request_id": request_id,
            "purpose": purpose,
        }
        for openid in dict.fromkeys(openids)
    ]
    if rows:
        await session.execute(_INSERT, rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Delivered:
    """Messages WeChat accepted: how they went, and the user's interactions up to `seen` that
    were in view when they were tried (storage/delivery.py)."""

    ids: Sequence[int]
    via: str
    seen: datetime


_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("message_id"))
    .values(
        status="sent",
        via=bindparam("via"),
        sent_at=bindparam("sent_at"),
        attempted_at=bindparam("seen"),
        lease_until=None,
    )
)


async def mark_sent(*, session: AsyncSession, delivered: Sequence[Delivered]) -> None:
    """Record that these messages reached WeChat, in one statement however many they are."""
    now = utcnow()
    rows = [
        {"message_id": id_, "via": d.via, "sent_at": now, "seen": d.seen}
        for d in delivered
        for id_ in d.ids
    ]
    if rows:
        await session.execute(_MARK_SENT, rows)


async def mark_retry(
    *, session: AsyncSession, ids: list[int], error: str, at: datetime, give_up: bool = False
) -> None:
    """Put these messages back for another attempt at `at` (or fail them for good)."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(
            status="failed" if give_up else "pending",
            attempts=col(OutboxMessage.attempts) + 1,
            next_attempt_at=at,
            last_error=reason(error),
            lease_until=None,
        )
    )
