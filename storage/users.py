"""Users: anyone following the account, with their 48-hour window and pending question."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from storage.errors import NotFound
from storage.models import User
from storage.sql import Executor, backend, insert_for

# Interactions that open WeChat's 48-hour customer-service window (shared/spec/wechat.md).
WINDOW_KINDS = ("message", "click", "follow")


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the dispatcher needs of a user who just wrote: who, and their pending question.

    Loading the whole ORM object costs more than the rest of a short message's handling, so
    it is loaded (`by_id`) only for the handlers that ask for it.
    """

    id: int
    openid: str
    dialog_flow: str | None
    dialog_state: str | None
    dialog_data: str | None
    dialog_expires_at: datetime | None


_USERS = cast(Table, User.__table__)  # type: ignore[attr-defined]
_ARRIVAL = [_USERS.c[name] for name in Arrival.__slots__]


def _load_statement(lock: bool) -> Any:
    stmt = select(*_ARRIVAL).where(_USERS.c.openid.in_(bindparam("openids", expanding=True)))
    return stmt.with_for_update() if lock else stmt


def _window_statement(follow: bool, among: Any) -> Any:
    values: dict[str, Any] = {
        "last_interaction_at": bindparam("at"),
        "last_interaction_kind": bindparam("kind"),
        "cs_sent_since_interaction": 0,
    }
    if follow:
        values["subscribed"] = True
    return update(_USERS).where(among).values(**values).returning(*_ARRIVAL)


# Built once (see storage/messages.py): the per-message path runs them for every batch.
_LOAD = {lock: _load_statement(lock) for lock in (False, True)}
_AMONG = _USERS.c.openid.in_(bindparam("openids", expanding=True))
_OPEN_WINDOW = {follow: _window_statement(follow, _AMONG) for follow in (False, True)}


async def touch(
    *, session: Executor, arrivals: Mapping[str, str | None], at: datetime
) -> dict[str, Arrival]:
    """Fetch (creating when new) users by openid and record the interactions that open the
    48-hour window (openid → message/click/follow, or None for an arrival that does not).

    Opening the window and reading the user are one UPDATE … RETURNING per kind of arrival;
    the update (or, without one, SELECT … FOR UPDATE) also takes each user's row lock, which
    serialises one user's messages across processes on PostgreSQL.
    """
    if not arrivals:
        return {}
    lock = backend(session) == "postgresql"
    by_kind: dict[str | None, list[str]] = {}
    for openid, kind in arrivals.items():
        by_kind.setdefault(kind if kind in WINDOW_KINDS else None, []).append(openid)
    found: dict[str, Arrival] = {}
    for kind, openids in by_kind.items():
        found.update(await _touch_kind(session, openids, kind, at, lock))
    missing = [openid for openid in arrivals if openid not in found]
    if missing:
        new = []
        for openid in missing:
            kind = arrivals[openid] if arrivals[openid] in WINDOW_KINDS else None
            new.append(
                {
                    "openid": openid,
                    "created_at": at,
                    "last_interaction_at": at if kind else None,
                    "last_interaction_kind": kind,
                }
            )
        await session.execute(insert_for(session, User).on_conflict_do_nothing(), new)
        # A user created meanwhile by another process is touched like any existing one.
        for kind, openids in by_kind.items():
            late = [openid for openid in openids if openid in missing]
            if late:
                found.update(await _touch_kind(session, late, kind, at, lock))
    return found


async def _touch_kind(
    session: Executor, openids: list[str], kind: str | None, at: datetime, lock: bool
) -> dict[str, Arrival]:
    if kind is None:
        rows = await session.execute(_LOAD[lock], {"openids": openids})
    else:
        params = {"openids": openids, "at": at, "kind": kind}
        rows = await session.execute(_OPEN_WINDOW[kind == "follow"], params)
    return {row.openid: Arrival(*row) for row in rows}


def loaded(*, session: AsyncSession, user_id: int) -> User | None:
    """The user's ORM object if this session already holds it (no I/O): it may carry
    changes not yet flushed, such as a new pending question."""
    held = session.identity_map
    if not held:  # the common case, and cheaper than building the key
        return None
    found = held.get(identity_key(User, user_id))
    return found if isinstance(found, User) else None


async def load(*, session: AsyncSession, user_ids: Collection[int]) -> list[User]:
    """Read these users in one statement: by_id finds them in the session for as long as
    the caller holds the list (the session holds its objects weakly)."""
    if not user_ids:
        return []
    return list(await session.scalars(select(User).where(col(User.id).in_(set(user_ids)))))


async def by_openids(
    *, session: AsyncSession, openids: Collection[str], lock: bool = False
) -> dict[str, User]:
    """The users with these openids (one without a user row is left out); `lock` takes their
    row locks on PostgreSQL."""
    if not openids:
        return {}
    stmt = select(User).where(col(User.openid).in_(openids))
    users = await session.scalars(stmt.with_for_update() if lock else stmt)
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


async def set_window(
    *,
    session: AsyncSession,
    openid: str,
    at: datetime | None,
    kind: str | None,
    sent: int,
    subscribed: bool,
) -> None:
    """Record the user's last interaction, customer messages since and following as WeChat
    has them (the simulator keeps Jinlin's view in step with its stand-in's)."""
    await session.execute(
        update(User)
        .where(col(User.openid) == openid)
        .values(
            last_interaction_at=at,
            last_interaction_kind=kind,
            cs_sent_since_interaction=sent,
            subscribed=subscribed,
        )
    )


def dialog(user: User | Arrival, now: datetime) -> tuple[str, str, dict[str, Any]] | None:
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
