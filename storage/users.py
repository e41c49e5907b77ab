"""Users: anyone following the account, with their 48-hour window and pending question."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from bot.errors import NotFound
from storage.models import User
from storage.sql import insert_for

# Interactions that open WeChat's 48-hour customer-service window (shared/spec/wechat.md).
WINDOW_KINDS = ("message", "click", "follow")


def _load_statement(lock: bool) -> Any:
    stmt = select(User).where(col(User.openid).in_(bindparam("openids", expanding=True)))
    return stmt.with_for_update() if lock else stmt


# Built once (see storage/messages.py): the per-message path runs them for every batch.
_LOAD = {lock: _load_statement(lock) for lock in (False, True)}
_TABLE = cast(Table, User.__table__)  # type: ignore[attr-defined]  # Core: one executemany
_OPEN_WINDOW = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("uid"))
    .values(
        last_interaction_at=bindparam("at"),
        last_interaction_kind=bindparam("kind"),
        cs_sent_since_interaction=0,
        subscribed=case((bindparam("follow"), True), else_=_TABLE.c.subscribed),
    )
)


async def touch(
    *, session: AsyncSession, arrivals: Mapping[str, str | None], at: datetime
) -> dict[str, User]:
    """Fetch (creating when new) users by openid and record the interactions that open the
    48-hour window (openid → message/click/follow, or None for an arrival that does not).

    On PostgreSQL the rows are locked, which serialises one user's messages across processes.
    """
    if not arrivals:
        return {}
    lock = session.get_bind().dialect.name == "postgresql"
    found = await _load(session, list(arrivals), lock)
    missing = [openid for openid in arrivals if openid not in found]
    if missing:
        new = [{"openid": openid, "created_at": at} for openid in missing]
        await session.execute(insert_for(session, User).on_conflict_do_nothing(), new)
        found.update(await _load(session, missing, lock))
    opened = [(found[o], kind) for o, kind in arrivals.items() if kind in WINDOW_KINDS]
    if opened:
        await session.execute(
            _OPEN_WINDOW,
            [{"uid": u.id, "at": at, "kind": k, "follow": k == "follow"} for u, k in opened],
        )
        for user, kind in opened:
            # Keep the loaded objects in step without marking them dirty.
            set_committed_value(user, "last_interaction_at", at)
            set_committed_value(user, "last_interaction_kind", kind)
            set_committed_value(user, "cs_sent_since_interaction", 0)
            if kind == "follow":
                set_committed_value(user, "subscribed", True)
    return found


async def _load(session: AsyncSession, openids: list[str], lock: bool) -> dict[str, User]:
    users = await session.scalars(_LOAD[lock], {"openids": openids})
    return {user.openid: user for user in users}


async def get(*, session: AsyncSession, openid: str) -> User:
    """The user with this openid."""
    user = (
        await session.execute(select(User).where(col(User.openid) == openid))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {openid}")
    return user


async def by_id(*, session: AsyncSession, user_id: int) -> User:
    """The user with this id."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
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
