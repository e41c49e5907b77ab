"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Where a statement runs: a session, or (for the dispatcher's own statements, which need no
# ORM) the connection of its transaction.
Executor = AsyncSession | AsyncConnection


def backend(executor: Executor) -> str:
    """The database's dialect name: "sqlite" or "postgresql"."""
    if isinstance(executor, AsyncConnection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def insert_for(session: Executor, table: Any) -> Any:
    """An INSERT with on_conflict_* methods for the session's backend."""
    dialect = postgresql if backend(session) == "postgresql" else sqlite
    return dialect.insert(table)


async def affected(session: AsyncSession, statement: Any) -> int:
    """Execute an INSERT/UPDATE/DELETE and return how many rows it touched."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount)


async def plain_rows(session: AsyncSession, statement: Any, params: Any = None) -> Result[Any]:
    """Run a query that selects columns, not ORM objects, as Core on the session's connection.

    Written with ORM attributes, such a query still takes the ORM's compile and result path
    when the session runs it: about 100 µs more for the volunteers a request is routed among.
    What the session holds unwritten is flushed first, as the ORM's autoflush would.
    """
    sync = session.sync_session
    if sync.new or sync.dirty or sync.deleted:
        await session.flush()
    connection = await session.connection()
    return await connection.execute(statement, params)
