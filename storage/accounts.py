"""Community workers' console accounts: who they are, their scope, their linked openid."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.errors import Conflict, InvalidInput, NotFound
from storage.models import AdminAccount, Community, Street
from storage.scope import Scope


@dataclass(frozen=True)
class Where:
    """The street and (or) community an account is scoped to, by id and name."""

    street_id: int
    street: str
    community_id: int | None = None
    community: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope(street_id=self.street_id, community_id=self.community_id)

    @property
    def label(self) -> str:
        return self.community or f"{self.street}（全街道）"


async def find_where(
    *, session: AsyncSession, street: str | None = None, community: str | None = None
) -> Where:
    """The street, or the community (within `street` when given), named so."""
    if community:
        query = (
            select(col(Street.id), col(Street.name), col(Community.id), col(Community.name))
            .join(Community, col(Community.street_id) == Street.id)
            .where(col(Community.name) == community)
        )
        if street:
            query = query.where(col(Street.name) == street)
        rows = (await session.execute(query)).all()
        if len(rows) > 1:
            raise InvalidInput(f"community {community!r} is in several streets: name the street")
        if not rows:
            raise NotFound(f"no community named {community!r}")
        return Where(*rows[0])
    found = (
        await session.execute(
            select(col(Street.id), col(Street.name)).where(col(Street.name) == street)
        )
    ).one_or_none()
    if found is None:
        raise NotFound(f"no street named {street!r}")
    return Where(int(found[0]), str(found[1]))


async def where_of(*, session: AsyncSession, account: AdminAccount) -> Where:
    """The scope of an account, with names."""
    street = await session.get(Street, account.street_id)
    community = await session.get(Community, account.community_id) if account.community_id else None
    assert street is not None and street.id is not None
    return Where(
        street.id,
        street.name,
        community.id if community else None,
        community.name if community else None,
    )


async def add(
    *,
    session: AsyncSession,
    username: str,
    password_hash: str,
    where: Where,
    openid: str | None = None,
    update_existing: bool = False,
) -> tuple[AdminAccount, bool]:
    """Create the account (or, with `update_existing`, change its password and scope);
    the account and whether it was new. Conflict when the name or openid is taken."""
    account = await by_username(session=session, username=username)
    if account is not None and not update_existing:
        raise Conflict(f"admin {username!r} exists (pass --update to change it)")
    created = account is None
    account = account or AdminAccount(username=username, password_hash="", street_id=0)
    account.password_hash = password_hash
    account.street_id = where.street_id
    account.community_id = where.community_id
    if openid is not None:
        account.openid = openid or None
    session.add(account)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"openid {openid!r} is linked to another admin") from None
    return account, created


async def by_username(*, session: AsyncSession, username: str) -> AdminAccount | None:
    """The account with this username."""
    return (
        await session.execute(select(AdminAccount).where(col(AdminAccount.username) == username))
    ).scalar_one_or_none()


async def get(*, session: AsyncSession, account_id: int) -> AdminAccount:
    """The account with this id."""
    account = await session.get(AdminAccount, account_id)
    if account is None:
        raise NotFound(f"no admin account {account_id}")
    return account


async def by_openid(*, session: AsyncSession, openid: str) -> AdminAccount | None:
    """The account linked to this openid."""
    return (
        await session.execute(select(AdminAccount).where(col(AdminAccount.openid) == openid))
    ).scalar_one_or_none()


async def every(*, session: AsyncSession) -> list[AdminAccount]:
    """Every account, by username."""
    return list(await session.scalars(select(AdminAccount).order_by(col(AdminAccount.username))))


async def linked_openids(*, session: AsyncSession, community_id: int) -> list[str]:
    """The openids of the linked workers of one community."""
    rows = await session.scalars(
        select(col(AdminAccount.openid)).where(
            col(AdminAccount.community_id) == community_id, col(AdminAccount.openid).is_not(None)
        )
    )
    return [openid for openid in rows if openid]


async def set_link_code(
    *, session: AsyncSession, account_id: int, code_hash: str, expires_at: datetime
) -> None:
    """Remember a fresh one-time code for linking the worker's openid (replacing any other)."""
    await session.execute(
        update(AdminAccount)
        .where(col(AdminAccount.id) == account_id)
        .values(link_code_hash=code_hash, link_code_expires_at=expires_at)
    )


async def link_by_code(
    *, session: AsyncSession, code_hash: str, openid: str, now: datetime
) -> AdminAccount | None:
    """Link `openid` to the account whose unexpired code this is (the code is used up);
    None when no account has it. An openid links to one account at a time."""
    account = (
        await session.execute(
            select(AdminAccount).where(
                col(AdminAccount.link_code_hash) == code_hash,
                col(AdminAccount.link_code_expires_at) > now,
            )
        )
    ).scalar_one_or_none()
    if account is None:
        return None
    await session.execute(
        update(AdminAccount)
        .where(col(AdminAccount.openid) == openid, col(AdminAccount.id) != account.id)
        .values(openid=None)
    )
    await session.flush()
    account.openid = openid
    account.link_code_hash = None
    account.link_code_expires_at = None
    session.add(account)
    await session.flush()
    return account


async def unlink(*, session: AsyncSession, account_id: int) -> None:
    """Forget the account's openid: chat commands no longer act for it."""
    await session.execute(
        update(AdminAccount).where(col(AdminAccount.id) == account_id).values(openid=None)
    )


async def logged_in(*, session: AsyncSession, account_id: int, at: datetime) -> None:
    """Record a successful login."""
    await session.execute(
        update(AdminAccount).where(col(AdminAccount.id) == account_id).values(last_login_at=at)
    )


async def linked_by_community(*, session: AsyncSession) -> dict[int, list[str]]:
    """The openids of linked community-scoped workers, by community."""
    rows = await session.execute(
        select(col(AdminAccount.community_id), col(AdminAccount.openid)).where(
            col(AdminAccount.community_id).is_not(None), col(AdminAccount.openid).is_not(None)
        )
    )
    found: dict[int, list[str]] = {}
    for community_id, openid in rows:
        found.setdefault(int(community_id), []).append(str(openid))
    return found


def code_hash(code: str) -> str:
    """How a link code is stored: hashed, so a copy of the database links nobody."""
    return hashlib.sha256(code.encode()).hexdigest()
