"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Where a statement runs: a session, or (for the dispatcher's own statements, which need no
# ORM) the connection of its transaction.
Executor = AsyncSession | AsyncConnection


def backend(executor: Executor) -> str:
    """The database's dialect name: "sqlite" or "postgresql"."""
    if isinstance(executor, AsyncConnection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


class Prepared:
    """A Core statement compiled once for one dialect and run through exec_driver_sql.

    SQLAlchemy works out a statement's cache key on every execution, which for the few
    statements every message runs costs more than the database does; these skip that and
    convert parameters and results with the columns' own types all the same.
    """

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._order = tuple(compiled.positiontup or ())
        self._defaults = compiled.params
        self._convert = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self._order
        ]
        returned = statement.exported_columns if statement.is_dml else statement.selected_columns
        self._read = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned
        ]

    async def rows(self, conn: AsyncConnection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        given = {**self._defaults, **values}
        parameters = tuple(
            convert(given[name]) if convert else given[name]
            for name, convert in zip(self._order, self._convert, strict=True)
        )
        result = await conn.exec_driver_sql(self.sql, parameters)
        read = self._read
        return [
            tuple(r(v) if r else v for r, v in zip(read, row, strict=True))
            for row in result.fetchall()
        ]


async def write(executor: Executor, statement: Any, parameters: Any = None) -> None:
    """Execute a write whose result is not needed (it may be deferred, see sqlite_driver)."""
    if isinstance(executor, AsyncConnection):
        # AsyncConnection.execute insists on a round trip; a deferred write makes none.
        await executor.run_sync(lambda sync: sync.execute(statement, parameters))
    else:
        await executor.execute(statement, parameters)


def insert_for(session: Executor, table: Any) -> Any:
    """An INSERT with on_conflict_* methods for the session's backend."""
    dialect = postgresql if backend(session) == "postgresql" else sqlite
    return dialect.insert(table)


async def affected(session: AsyncSession, statement: Any) -> int:
    """Execute an INSERT/UPDATE/DELETE and return how many rows it touched."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount)
