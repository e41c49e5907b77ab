"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
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

    def bind(self, rows: Iterable[dict[str, Any]], **shared: Any) -> list[tuple[Any, ...]]:
        """The driver's parameters for each row; `shared` values, the same for every row, are
        converted once."""
        fields = list(zip(self._order, self._convert, strict=True))
        once = {name: _apply(convert, shared[name]) for name, convert in fields if name in shared}
        return [
            tuple(
                once[name] if name in once else _apply(convert, row.get(name, self._defaults[name]))
                for name, convert in fields
            )
            for row in rows
        ]

    async def rows(self, conn: AsyncConnection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement once and return its rows, converted."""
        result = await conn.exec_driver_sql(self.sql, self.bind([values])[0])
        read = self._read
        return [
            tuple(_apply(r, v) for r, v in zip(read, row, strict=True)) for row in result.fetchall()
        ]


def _apply(convert: Any, value: Any) -> Any:
    """A value through a type processor, where the type has one."""
    return convert(value) if convert else value


def insert_for(session: Executor, table: Any) -> Any:
    """An INSERT with on_conflict_* methods for the session's backend."""
    dialect = postgresql if backend(session) == "postgresql" else sqlite
    return dialect.insert(table)


async def affected(session: AsyncSession, statement: Any) -> int:
    """Execute an INSERT/UPDATE/DELETE and return how many rows it touched."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount)
