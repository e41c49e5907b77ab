"""`jinlin admin add` and `jinlin admin list`: community workers' console accounts."""

from __future__ import annotations

import re
from typing import TextIO

from bot.core.config import Config
from bot.runtime import open_configured, prepare_database
from bot.web.console import passwords
from storage import accounts
from storage.errors import InvalidInput
from storage.models import OPENID_LENGTH

_USERNAME = re.compile(r"^[\w.@-]{1,64}$")


async def add_admin(
    config: Config,
    *,
    username: str,
    password: str,
    community: str | None,
    street: str | None,
    openid: str | None,
    update: bool,
    out: TextIO,
) -> int:
    """Create (or with `update`, change) an account scoped to a community or a street."""
    if not _USERNAME.match(username):
        raise InvalidInput(
            "a username is 1-64 letters, digits or . _ @ - (Chinese characters are fine)"
        )
    problem = passwords.acceptable(password)
    if problem:
        raise InvalidInput(problem)
    if openid is not None and len(openid) > OPENID_LENGTH:
        raise InvalidInput(f"an openid is at most {OPENID_LENGTH} characters")
    hashed = passwords.hash_password(password)
    db = await open_configured(config)
    try:
        # The configured street and community exist before anyone names them.
        await prepare_database(db, config)
        async with db.transaction() as session:
            where = await accounts.find_where(
                session=session,
                street=street or (None if community else config.org.street),
                community=community,
            )
            account, created = await accounts.add(
                session=session,
                username=username,
                password_hash=hashed,
                where=where,
                openid=openid,
                update_existing=update,
            )
    finally:
        await db.close()
    linked = f", linked to {account.openid}" if account.openid else ""
    out.write(f"admin {username} {'added' if created else 'updated'}: {where.label}{linked}\n")
    return 0


async def list_admins(config: Config, out: TextIO) -> int:
    """Print every account with its scope and whether chat is linked."""
    db = await open_configured(config)
    try:
        await prepare_database(db, config)
        async with db.transaction() as session:
            for account in await accounts.every(session=session):
                where = await accounts.where_of(session=session, account=account)
                linked = "linked" if account.openid else "not linked"
                out.write(f"{account.username}\t{where.label}\t{linked}\n")
    finally:
        await db.close()
    return 0
