"""Users: anyone following the account, with their 48-hour window and pending question."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.errors import NotFound
from storage.models import User
from storage.sql import insert_for

# Interactions that open WeChat's 48-hour customer-service window (shared/spec/wechat.md).
WINDOW_KINDS = ("message", "click", "follow")


async def touch(*, session: AsyncSession, openid: str, kind: str | None, at: datetime) -> User:
    """Create or fetch the user; record an interaction that opens the window (and lock the row)."""
    values: dict[str, Any] = {}
    if kind in WINDOW_KINDS:
        values = {
            "last_interaction_at": at,
            "last_interaction_kind": kind,
            "cs_sent_since_interaction": 0,
        }
    if kind == "follow":
        values["subscribed"] = True
    insert = insert_for(session, User).values(openid=openid, created_at=at, **values)
    # Updating even with nothing to change takes the row lock that serialises one user's messages.
    stmt = insert.on_conflict_do_update(
        index_elements=[User.openid], set_=values or {"openid": insert.excluded.openid}
    ).returning(User)
    result = await session.execute(
        select(User).from_statement(stmt).execution_options(populate_existing=True)
    )
    return result.scalar_one()


async def get(*, session: AsyncSession, openid: str) -> User:
    """The user with this openid."""
    user = (
        await session.execute(select(User).where(col(User.openid) == openid))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {openid}")
    return user


async def set_subscribed(*, session: AsyncSession, openid: str, subscribed: bool) -> None:
    """Mark a user as following or not following the account."""
    await session.execute(
        update(User).where(col(User.openid) == openid).values(subscribed=subscribed)
    )


def dialog(user: User, now: datetime) -> tuple[str, str, dict[str, Any]] | None:
    """The user's pending question (flow, state, data), unless it has expired."""
    if not user.dialog_flow or not user.dialog_state:
        return None
    if user.dialog_expires_at is not None and user.dialog_expires_at <= now:
        return None
    return user.dialog_flow, user.dialog_state, json.loads(user.dialog_data or "{}")


async def set_dialog(
    *,
    session: AsyncSession,
    user: User,
    flow: str | None,
    state: str | None = None,
    data: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Store (or, with flow=None, clear) the user's pending question."""
    user.dialog_flow = flow
    user.dialog_state = state if flow else None
    user.dialog_data = json.dumps(data, ensure_ascii=False) if flow and data else None
    user.dialog_expires_at = expires_at if flow else None
    session.add(user)
