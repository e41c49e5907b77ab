"""Whether a message can reach a user now: WeChat's 48-hour window, its quota, or a template.

The rules are WeChat's (shared/spec/wechat.md); they live here, beside the data they read, so
that routing and the relay decide with the same rules the outbox delivery follows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import OutboxMessage, User

WINDOW = timedelta(hours=48)
MESSAGE_QUOTA = 5  # customer-service messages per 48 h after a user's message
EVENT_QUOTA, EVENT_SPAN = 3, timedelta(minutes=1)  # after a menu click, follow or scan


def custom_quota_left(user: User | None, now: datetime) -> int:
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
    *, session: AsyncSession, people: Collection[User], now: datetime, template: bool
) -> set[str]:
    """The openids among `people` that a message queued now reaches soon: by customer service
    with quota left for it after what already waits for them, else by a template message."""
    following = [user for user in people if user.subscribed]
    if not following:
        return set()
    if template:
        return {user.openid for user in following}
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
    waiting = {str(openid): int(count) for openid, count in rows}
    return {
        user.openid
        for user in following
        if custom_quota_left(user, now) > waiting.get(user.openid, 0)
    }
