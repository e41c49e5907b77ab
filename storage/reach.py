"""Whether a message can reach a user now: WeChat's 48-hour window, its quota, or a template.

The rules are WeChat's (shared/spec/wechat.md); they live here, beside the data they read, so
that routing and the relay decide with the same rules the outbox delivery follows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import OutboxMessage

WINDOW = timedelta(hours=48)
MESSAGE_QUOTA = 5  # customer-service messages per 48 h after a user's message
EVENT_QUOTA, EVENT_SPAN = 3, timedelta(minutes=1)  # after a menu click, follow or scan


class Reader(Protocol):
    """What WeChat's rules look at of a person: a User, or a routing candidate."""

    @property
    def openid(self) -> str: ...
    @property
    def subscribed(self) -> bool: ...
    @property
    def last_interaction_at(self) -> datetime | None: ...
    @property
    def last_interaction_kind(self) -> str | None: ...
    @property
    def cs_sent_since_interaction(self) -> int: ...


def custom_quota_left(user: Reader | None, now: datetime) -> int:
    """How many customer-service messages WeChat accepts for `user` now."""
    if user is None or user.last_interaction_at is None or not user.subscribed:
        return 0
    if user.last_interaction_kind == "message":
        quota, span = MESSAGE_QUOTA, WINDOW
    else:
        quota, span = EVENT_QUOTA, EVENT_SPAN
    if now - user.last_interaction_at > span:
        return 0
    return max(0, quota - user.cs_sent_since_interaction)


async def reachable(
    *,
    session: AsyncSession,
    people: Collection[Reader],
    now: datetime,
    template: bool,
    waiting: Mapping[str, int] | None = None,
) -> set[str]:
    """The openids among `people` that a message queued now reaches soon: by customer service
    with quota left for it after what already waits for them, else by a template message.

    `waiting` (openid → messages queued and unsent), when the caller read it already, spares
    the query."""
    following = [user for user in people if user.subscribed]
    if not following:
        return set()
    if template:
        return {user.openid for user in following}
    if waiting is not None:
        return {u.openid for u in following if custom_quota_left(u, now) > waiting.get(u.openid, 0)}
    # Each queued message of a user is sent as its own customer-service message when the
    # deliverer is kicked after each commit, so each uses one of the quota.
    rows = (
        await session.execute(
            select(col(OutboxMessage.openid), func.count())
            .where(
                col(OutboxMessage.openid).in_([user.openid for user in following]),
                col(OutboxMessage.status).in_(("pending", "sending")),
            )
            .group_by(col(OutboxMessage.openid))
        )
    ).all()
    counted = {str(openid): int(count) for openid, count in rows}
    return {
        user.openid
        for user in following
        if custom_quota_left(user, now) > counted.get(user.openid, 0)
    }
