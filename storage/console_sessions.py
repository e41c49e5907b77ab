"""Console sessions and failed logins, in the database so that every server process shares
them: a session opened on one process is known on the others, and guessing is counted once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import AdminAccount, ConsoleSession, LoginAttempt


async def open_session(
    *,
    session: AsyncSession,
    token_hash: str,
    account_id: int,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a new console session (its cookie's token only as a hash)."""
    session.add(
        ConsoleSession(
            token_hash=token_hash,
            account_id=account_id,
            csrf_token=csrf_token,
            created_at=now,
            seen_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()


async def live(
    *, session: AsyncSession, token_hash: str, now: datetime
) -> tuple[ConsoleSession, AdminAccount] | None:
    """The unexpired session with this token hash and its account."""
    row = (
        await session.execute(
            select(ConsoleSession, AdminAccount)
            .join(AdminAccount, col(AdminAccount.id) == ConsoleSession.account_id)
            .where(
                col(ConsoleSession.token_hash) == token_hash,
                col(ConsoleSession.expires_at) > now,
            )
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None


async def extend(
    *, session: AsyncSession, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    """The session was used: it lives until `expires_at` (never past what it already had
    been given when that is later; the caller caps it at the session's maximum age)."""
    await session.execute(
        update(ConsoleSession)
        .where(col(ConsoleSession.token_hash) == token_hash)
        .values(seen_at=now, expires_at=expires_at)
    )


async def close(*, session: AsyncSession, token_hash: str) -> None:
    """Log out: the session is gone on every process at once."""
    await session.execute(
        delete(ConsoleSession).where(col(ConsoleSession.token_hash) == token_hash)
    )


async def close_expired(*, session: AsyncSession, now: datetime) -> None:
    """Drop sessions past their time (they no longer let anyone in anyway)."""
    await session.execute(delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now))


async def record_failure(*, session: AsyncSession, keys: list[str], at: datetime) -> list[int]:
    """Count one failed attempt under each key (a username, an address, an openid); the ids
    of the rows, to take back should the attempt succeed after all."""
    rows = [LoginAttempt(key=key, at=at) for key in keys]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows if row.id is not None]


async def failures(*, session: AsyncSession, key: str, since: datetime) -> int:
    """Failed attempts under `key` since `since`."""
    found = await session.scalar(
        select(func.count()).where(col(LoginAttempt.key) == key, col(LoginAttempt.at) >= since)
    )
    return int(found or 0)


async def forget_failures(*, session: AsyncSession, key: str, ids: list[int]) -> None:
    """A success clears the whole count of its key, and takes back its own other rows."""
    await session.execute(
        delete(LoginAttempt).where((col(LoginAttempt.key) == key) | col(LoginAttempt.id).in_(ids))
    )


async def forget_old_failures(*, session: AsyncSession, before: datetime) -> None:
    """Drop attempts too old to count."""
    await session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < before))


def capped(now: datetime, created_at: datetime, idle: timedelta, longest: timedelta) -> datetime:
    """When a session used at `now` expires: after `idle` unused, at most `longest` after login."""
    return min(now + idle, created_at + longest)
