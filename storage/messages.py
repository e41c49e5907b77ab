"""Inbound message keys: one effect per WeChat message however many copies arrive."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ProcessedMessage
from storage.sql import Executor, affected

# Built once: these run for every batch of inbound messages, and a statement of stable shape
# is compiled once and then served from SQLAlchemy's cache.
_EXISTING = select(
    col(ProcessedMessage.key), col(ProcessedMessage.reply), col(ProcessedMessage.delivery)
).where(col(ProcessedMessage.key).in_(bindparam("keys", expanding=True)))
# Core, not the ORM's bulk insert: a list of parameters is then one plain executemany.
_RECORD = insert(cast(Table, ProcessedMessage.__table__))  # type: ignore[attr-defined]


class Handled(NamedTuple):
    """An earlier copy's record: its reply and how that reply was delivered."""

    key: str
    reply: str | None
    delivery: str | None


async def existing(*, session: Executor, keys: Collection[str]) -> dict[str, Handled]:
    """The records of those keys that were already handled."""
    if not keys:
        return {}
    rows = await session.execute(_EXISTING, {"keys": list(keys)})
    return {row.key: Handled(*row) for row in rows}


async def record(*, session: Executor, replies: Mapping[str, str]) -> None:
    """Record handled keys with their replies; a key recorded meanwhile elsewhere fails the insert.

    The primary key is what makes a re-delivery a no-op: a second transaction that handled the
    same key cannot commit, so its effects roll back with it.
    """
    if not replies:
        return
    rows = [{"key": key, "reply": reply} for key, reply in replies.items()]
    await session.execute(_RECORD, rows)


async def claim_delivery(*, session: AsyncSession, key: str, how: str) -> bool:
    """Decide once how a reply reaches the user: "passive" (in a response) or "outbox"."""
    stmt = (
        update(ProcessedMessage)
        .where(col(ProcessedMessage.key) == key, col(ProcessedMessage.delivery).is_(None))
        .values(delivery=how)
    )
    return await affected(session, stmt) == 1


async def delivery_of(*, session: AsyncSession, key: str) -> str | None:
    """How the reply to `key` was delivered, if decided."""
    found = await existing(session=session, keys=[key])
    return found[key].delivery if key in found else None
