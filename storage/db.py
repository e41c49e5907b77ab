"""The async engine and sessions, tuned per backend."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import sqlite_driver

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time; queueing writers here is fair and fast, where letting
    # them race for the file lock makes SQLite's busy handler sleep them in 1-100 ms steps.
    _writer: asyncio.Lock | None = field(default=None, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.writing(), self.sessions() as session, session.begin():
            yield session

    def writing(self) -> AbstractAsyncContextManager[object]:
        """Hold this process's turn to write (SQLite); nothing to wait for on PostgreSQL."""
        return self._writer if self._writer is not None else nullcontext()

    async def reachable(self) -> bool:
        """True when a trivial query succeeds."""
        reason = await self.unreachable_reason()
        if reason is not None:
            logger.warning("database unreachable: %s", reason)
        return reason is None

    async def unreachable_reason(self) -> str | None:
        """Why the database cannot be used, in one line; None when a trivial query succeeds."""
        url = self.engine.url
        if self.is_sqlite and url.database and url.database != ":memory:":
            # SQLite creates a missing file but not its folder, and then says only "unable
            # to open database file".
            folder = await asyncio.to_thread(_missing_folder, url.database)
            if folder is not None:
                return f"the folder {folder} for the SQLite file does not exist"
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # drivers raise their own types while connecting
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            where = url.render_as_string(hide_password=True)
            return f"cannot connect to {where}: {detail[0] if detail else exc.__class__.__name__}"
        return None

    async def close(self) -> None:
        await self.engine.dispose()


def _missing_folder(path: str) -> Path | None:
    folder = Path(path).expanduser().absolute().parent
    return None if folder.is_dir() else folder


def open_database(url: str, **engine_args: Any) -> Database:
    """Create the engine for `url` (no connection is made until first use)."""
    if url.startswith("sqlite"):
        # A Connection rolls back its own unfinished transaction when closed, so the pool's
        # extra rollback on every return is one more thread round trip for nothing.
        engine = create_async_engine(
            url, module=sqlite_driver.one_trip_dbapi(), pool_reset_on_return=None, **engine_args
        )
        _tune_sqlite(engine)
        writer: asyncio.Lock | None = asyncio.Lock()
    else:
        engine = create_async_engine(url, pool_pre_ping=True, **engine_args)
        writer = None
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False), writer)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # WAL lets readers run beside the writer.
    sqlite_driver.install(engine.sync_engine)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
