"""WeChat's access token, one row per appid, shared by every server process.

Of several processes only the holder of the lease fetches a new token; the others keep
using the stored one or wait for it. A lease is free when `lease_until` is null or past,
so a refresher that dies mid-fetch blocks the others for one lease at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import AccessToken
from storage.sql import affected, insert_for


async def load(*, session: AsyncSession, appid: str) -> AccessToken | None:
    """The stored row for `appid` (its token may be null after a discard)."""
    return (
        await session.execute(
            select(AccessToken)
            .where(col(AccessToken.appid) == appid)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def try_lease(
    *, session: AsyncSession, appid: str, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take the right to refresh until now + lease; False while someone else holds it."""
    free = or_(
        col(AccessToken.lease_until).is_(None),
        col(AccessToken.lease_until) < now,
        # Re-taking our own lease is harmless and lets a holder extend it.
        col(AccessToken.lease_owner) == owner,
    )
    insert = insert_for(session, AccessToken).values(
        appid=appid, lease_owner=owner, lease_until=now + lease
    )
    # One guarded upsert settles the race in the database: a first row, or a free lease.
    stmt = insert.on_conflict_do_update(
        index_elements=[AccessToken.appid],
        set_={"lease_owner": owner, "lease_until": now + lease},
        where=free,
    )
    return await affected(session, stmt) == 1


async def store(
    *, session: AsyncSession, appid: str, token: str, expires_at: datetime, owner: str
) -> None:
    """Save a freshly fetched token and give up the lease if `owner` holds it."""
    insert = insert_for(session, AccessToken).values(
        appid=appid, token=token, expires_at=expires_at
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[AccessToken.appid],
            set_={"token": token, "expires_at": expires_at},
        )
    )
    await release(session=session, appid=appid, owner=owner)


async def release(*, session: AsyncSession, appid: str, owner: str) -> None:
    """Give up the lease if `owner` holds it (after a failed fetch, so others need not wait)."""
    await session.execute(
        update(AccessToken)
        .where(col(AccessToken.appid) == appid, col(AccessToken.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
    )


async def discard(*, session: AsyncSession, appid: str, token: str) -> bool:
    """Forget `token` after WeChat rejected it, unless another process already replaced it."""
    stmt = (
        update(AccessToken)
        .where(col(AccessToken.appid) == appid, col(AccessToken.token) == token)
        .values(token=None, expires_at=None)
    )
    return await affected(session, stmt) == 1
