"""Schema migrations (Alembic) run on the project's own async engine."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
LOCKED_RETRIES = 8

# Alembic's `context` is module state: one upgrade at a time per event loop.
_upgrading: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def alembic_config(connection: Any | None = None) -> AlembicConfig:
    """An Alembic config pointing at our migrations, optionally bound to a connection."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision` (idempotent; safe from several processes at once)."""
    lock = _upgrading.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        for attempt in range(LOCKED_RETRIES + 1):
            try:
                async with db.engine.begin() as conn:
                    await conn.run_sync(
                        lambda sync: command.upgrade(alembic_config(sync), revision)
                    )
                return
            except OperationalError as exc:
                # While a brand-new SQLite file turns to WAL under another process, SQLite
                # answers "locked" at once instead of waiting; the migration rolled back whole.
                if "locked" not in str(exc.orig) or attempt == LOCKED_RETRIES:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
