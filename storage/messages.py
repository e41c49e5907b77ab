"""Inbound message keys: one effect per WeChat message however many copies arrive."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ProcessedMessage
from storage.sql import affected, insert_for


async def claim(*, session: AsyncSession, key: str) -> bool:
    """Record `key`; False when a copy was already recorded (the database settles races)."""
    stmt = insert_for(session, ProcessedMessage).values(key=key).on_conflict_do_nothing()
    return await affected(session, stmt) == 1


async def record_reply(*, session: AsyncSession, key: str, reply: str) -> None:
    """Store the reply so that every later copy gets the same one."""
    await session.execute(
        update(ProcessedMessage).where(col(ProcessedMessage.key) == key).values(reply=reply)
    )


async def stored(*, session: AsyncSession, key: str) -> ProcessedMessage | None:
    """The record of an earlier copy."""
    return (
        await session.execute(select(ProcessedMessage).where(col(ProcessedMessage.key) == key))
    ).scalar_one_or_none()


async def claim_delivery(*, session: AsyncSession, key: str, how: str) -> bool:
    """Decide once how a reply reaches the user: "passive" (in a response) or "outbox"."""
    stmt = (
        update(ProcessedMessage)
        .where(col(ProcessedMessage.key) == key, col(ProcessedMessage.delivery).is_(None))
        .values(delivery=how)
    )
    return await affected(session, stmt) == 1
