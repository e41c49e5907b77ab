"""The account's user tags, mirrored from WeChat, where workers tag followers (用户管理 → 标签)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Tag, TagMember
from storage.sql import insert_for

INSERT_CHUNK = 5_000  # rows per INSERT, under both drivers' limits on parameters


async def keep_tags(*, session: AsyncSession, tags: Iterable[tuple[int, str]]) -> None:
    """Record WeChat's tags (id, name); a tag gone from WeChat loses its members here."""
    known = dict(tags)
    current = {row.id: row for row in await session.scalars(select(Tag))}
    for tag_id in set(current) - set(known):
        await session.execute(delete(TagMember).where(col(TagMember.tag_id) == tag_id))
    # Names are unique: clear renamed ones first so a swap of two names cannot collide.
    for tag_id, row in current.items():
        if known.get(tag_id, row.name) != row.name:
            await session.execute(
                update(Tag).where(col(Tag.id) == tag_id).values(name=f"~{tag_id}")
            )
    for tag_id, name in known.items():
        stmt = insert_for(session, Tag).values(id=tag_id, name=name)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["id"], set_={"name": name})
        )


async def keep_members(
    *, session: AsyncSession, tag_id: int, openids: Iterable[str], now: datetime
) -> None:
    """Replace the tag's members with WeChat's list."""
    await session.execute(delete(TagMember).where(col(TagMember.tag_id) == tag_id))
    rows = [{"tag_id": tag_id, "openid": openid} for openid in dict.fromkeys(openids)]
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert_for(session, TagMember), rows[start : start + INSERT_CHUNK])
    await session.execute(update(Tag).where(col(Tag.id) == tag_id).values(synced_at=now))


async def names(*, session: AsyncSession) -> list[str]:
    """Every tag's name, for choosing an audience."""
    return list(await session.scalars(select(col(Tag.name)).order_by(col(Tag.name))))
