"""Notices (群发): creating one, what it would reach and cost, and how far each has got.

The console, the CLI and chat call these; the delivery engine's own queries are in
storage/broadcast_delivery.py. Every function that shows or changes a notice takes the scope
of the worker asking, so nobody reaches past their own community.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from storage import audience as audiences
from storage.audience import Audience, Scope
from storage.errors import Conflict, InvalidInput, NotFound
from storage.models import (
    Broadcast,
    BroadcastState,
    MassCalls,
    MassQuota,
    TagMember,
    User,
)
from storage.sql import affected

AccountType = Literal["service", "subscription"]
MAX_TEXT = 600  # characters; WeChat takes 2,048 bytes of text, 3 bytes a Chinese character
MASS_PER_USER_MONTH = 4  # a service account's mass messages to one user in a month
DAILY_MASS_CALLS: dict[str, int] = {"service": 100, "subscription": 1}
WINDOW = timedelta(hours=48)
EVENT_SPAN = timedelta(minutes=1)  # after a click or follow, 3 messages within a minute
WINDOW_QUOTA = {"message": 5, "click": 3, "follow": 3}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Rules:
    """What the deployment decides about broadcasts (from the config, see handlers/broadcast)."""

    account_type: AccountType = "service"
    batch_size: int = 10_000
    tz: tzinfo = SHANGHAI
    home_community_id: int | None = None  # where people who never gave a place count

    def day(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d")

    def month(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m")


# --- what a notice would do --------------------------------------------------------------


@dataclass(frozen=True)
class QuotaWarning:
    """Something the sender should know before sending: WeChat's quotas will hold it back."""

    kind: Literal["nobody", "daily", "monthly", "by_tag_only", "single_outside"]
    count: int = 0
    limit: int = 0

    @property
    def zh(self) -> str:
        return {
            "nobody": "没有符合条件的接收人。",
            "daily": f"今天的群发次数不够（每天{self.limit}次，这条需要{self.count}次），"
            "超出的部分明天继续发送。",
            "monthly": f"{self.count}人本月已收到{self.limit}条群发（微信的上限），这次收不到。",
            "by_tag_only": f"订阅号只能按标签群发；其他人只有48小时内和公众号互动过的才能收到"
            f"（现在{self.count}人）。",
            "single_outside": "只有1位接收人且他48小时内没有和公众号互动过，微信不允许发给他。",
        }[self.kind]

    @property
    def en(self) -> str:
        return {
            "nobody": "nobody is in this audience",
            "daily": f"needs {self.count} mass-send calls, over today's quota of {self.limit}: "
            "the rest goes tomorrow",
            "monthly": f"{self.count} recipients already had {self.limit} mass messages this "
            "month and will be skipped",
            "by_tag_only": "a subscription account mass-sends by tag only: others get it only "
            f"inside the 48-hour window ({self.count} now)",
            "single_outside": "a single recipient outside the 48-hour window cannot be reached",
        }[self.kind]


@dataclass(frozen=True)
class Preview:
    """What a notice to an audience would reach, and how."""

    count: int  # recipients (after opt-outs; before quota skips)
    opted_out: int  # in the audience but unsubscribed or opted out: never sent to
    plan: str  # "tag", "openids" or "custom"
    calls: int  # WeChat calls it needs
    warnings: tuple[QuotaWarning, ...]


async def count_audience(
    *, session: AsyncSession, audience: Audience, scope: Scope, rules: Rules
) -> int:
    """How many people a notice to `audience` within `scope` reaches now."""
    return await audiences.count(
        session=session, audience=audience, scope=scope, home_community_id=rules.home_community_id
    )


async def preview(
    *, session: AsyncSession, audience: Audience, scope: Scope, rules: Rules, now: datetime
) -> Preview:
    """The recipients of a notice to `audience` and the quota warnings it would meet now."""
    home = rules.home_community_id
    chosen = audiences.recipients(audience, scope, home_community_id=home).subquery()
    total = await count_audience(session=session, audience=audience, scope=scope, rules=rules)
    opted_out = await audiences.count(
        session=session, audience=audience, scope=scope, home_community_id=home, excluded=True
    )
    warnings: list[QuotaWarning] = []
    over = 0
    if rules.account_type == "service":
        over = await _scalar(
            session,
            select(func.count())
            .select_from(chosen)
            .join(MassQuota, col(MassQuota.openid) == chosen.c.openid)
            .where(
                col(MassQuota.month) == rules.month(now),
                col(MassQuota.received) >= MASS_PER_USER_MONTH,
            ),
        )
    whole_tag = False
    if audience.tag_id is not None and not opted_out and not over:
        members = await _scalar(
            session,
            select(func.count()).where(col(TagMember.tag_id) == audience.tag_id),
        )
        whole_tag = total == members
    if whole_tag:
        plan, calls = "tag", 1
    elif rules.account_type == "subscription" or total == 1:
        plan = "custom"
        calls = await _scalar(
            session,
            select(func.count())
            .select_from(chosen)
            .join(User, col(User.openid) == chosen.c.openid)
            .where(reachable_by_custom(now)),
        )
    else:
        plan, calls = "openids", len(batch_sizes(total - over, rules.batch_size))
    if total == 0:
        warnings.append(QuotaWarning("nobody"))
    if over:
        warnings.append(QuotaWarning("monthly", over, MASS_PER_USER_MONTH))
    if plan == "custom" and rules.account_type == "subscription" and total:
        warnings.append(QuotaWarning("by_tag_only", calls))
    elif plan == "custom" and total and not calls:
        warnings.append(QuotaWarning("single_outside"))
    if plan != "custom":
        limit = DAILY_MASS_CALLS[rules.account_type]
        used = await mass_calls_on(session=session, day=rules.day(now))
        if used + calls > limit:
            warnings.append(QuotaWarning("daily", calls, limit))
    return Preview(total, opted_out, plan, calls, tuple(warnings))


def batch_sizes(total: int, size: int) -> list[int]:
    """The sizes of the OpenID-list calls for `total` recipients: none of them 1 (WeChat needs
    two), unless there is only one recipient."""
    sizes = []
    while total > 0:
        take = min(size, total)
        if total - take == 1:
            take -= 1
        sizes.append(take)
        total -= take
    return sizes


def reachable_by_custom(now: datetime) -> ColumnElement[bool]:
    """Users a customer-service message reaches now: inside the 48-hour window and its quota
    (shared/spec/wechat.md)."""
    after_message = (
        (col(User.last_interaction_kind) == "message")
        & (col(User.last_interaction_at) > now - WINDOW)
        & (col(User.cs_sent_since_interaction) < WINDOW_QUOTA["message"])
    )
    after_event = (
        col(User.last_interaction_kind).in_(("click", "follow"))
        & (col(User.last_interaction_at) > now - EVENT_SPAN)
        & (col(User.cs_sent_since_interaction) < WINDOW_QUOTA["click"])
    )
    return col(User.subscribed).is_(True) & (after_message | after_event)


async def mass_calls_on(*, session: AsyncSession, day: str) -> int:
    """Mass-send calls made on a local day ("2026-11-23")."""
    return await _scalar(session, select(col(MassCalls.calls)).where(col(MassCalls.day) == day))


async def _scalar(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(query) or 0)


# --- creating and withdrawing ------------------------------------------------------------


async def create_broadcast(
    *,
    session: AsyncSession,
    text: str,
    audience: Audience,
    scope: Scope,
    rules: Rules,
    created_by: str,
    now: datetime,
    send_at: datetime | None = None,
) -> Broadcast:
    """A notice to `audience` within `scope`, sent at `send_at` (default: now)."""
    text = text.strip()
    if not text:
        raise InvalidInput("通知内容不能为空")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"通知内容不能超过{MAX_TEXT}字（现在{len(text)}字）")
    if send_at is not None and send_at < now - timedelta(minutes=1):
        raise InvalidInput("发送时间已经过去了")
    broadcast = Broadcast(
        text=text,
        created_by=created_by,
        created_at=now,
        send_at=max(send_at or now, now),
        label=audience.label,
        community_id=audience.community_id,
        street_id=audience.street_id,
        compound_id=audience.compound_id,
        building=audience.building,
        role=audience.role,
        tag_id=audience.tag_id,
        scope_community_id=scope.community_id,
        scope_street_id=scope.street_id,
        home_community_id=rules.home_community_id,
        nonce=secrets.token_hex(3),
        recipients=await count_audience(
            session=session, audience=audience, scope=scope, rules=rules
        ),
    )
    session.add(broadcast)
    await session.flush()
    return broadcast


async def cancel_broadcast(*, session: AsyncSession, broadcast_id: int, scope: Scope) -> None:
    """Withdraw a notice that has not started going out."""
    await _get(session, broadcast_id, scope)
    withdrawn = await affected(
        session,
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.state) == BroadcastState.SCHEDULED)
        .values(state=BroadcastState.CANCELLED),
    )
    if not withdrawn:
        raise Conflict(f"通知 {broadcast_id} 已经开始发送，不能撤回")


async def set_opt_out(*, session: AsyncSession, openid: str, opted_out: bool) -> None:
    """退订 (True) or 恢复订阅 (False): whether the user gets notices at all."""
    await session.execute(
        update(User).where(col(User.openid) == openid).values(broadcast_opt_out=opted_out)
    )


# --- progress ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A notice and how far its delivery has got."""

    id: int
    text: str
    label: str
    state: str
    created_by: str
    created_at: datetime
    send_at: datetime
    finished_at: datetime | None
    recipients: int
    sent: int
    failed: int
    skipped: int  # over the monthly quota, outside the 48-hour window, or opted out meanwhile
    pending: int
    last_error: str | None


def in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions keeping notices to those of `scope`'s community or street."""
    if scope.community_id is not None:
        return [col(Broadcast.community_id) == scope.community_id]
    if scope.street_id is not None:
        return [col(Broadcast.street_id) == scope.street_id]
    return []


async def list_broadcasts(
    *, session: AsyncSession, scope: Scope, limit: int = 50
) -> list[Progress]:
    """The newest notices within `scope`, each with its progress."""
    rows = await session.scalars(
        select(Broadcast).where(*in_scope(scope)).order_by(col(Broadcast.id).desc()).limit(limit)
    )
    return [_progress(b) for b in rows]


async def progress(*, session: AsyncSession, broadcast_id: int, scope: Scope) -> Progress:
    """One notice's progress (NotFound outside `scope`)."""
    return _progress(await _get(session, broadcast_id, scope))


async def _get(session: AsyncSession, broadcast_id: int, scope: Scope) -> Broadcast:
    found = await session.scalar(
        select(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, *in_scope(scope))
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"没有找到通知 {broadcast_id}")
    return found


def _progress(broadcast: Broadcast) -> Progress:
    recipients = broadcast.recipients or 0
    if broadcast.state == BroadcastState.SENDING:
        pending = recipients - broadcast.sent - broadcast.failed - broadcast.skipped
    elif broadcast.state == BroadcastState.SCHEDULED:
        pending = recipients  # the audience as counted when it was created
    else:
        pending = 0
    assert broadcast.id is not None
    return Progress(
        id=broadcast.id,
        text=broadcast.text,
        label=broadcast.label,
        state=broadcast.state,
        created_by=broadcast.created_by,
        created_at=broadcast.created_at,
        send_at=broadcast.send_at,
        finished_at=broadcast.finished_at,
        recipients=recipients,
        sent=broadcast.sent,
        failed=broadcast.failed,
        skipped=broadcast.skipped,
        pending=pending,
        last_error=broadcast.last_error,
    )
