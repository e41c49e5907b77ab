"""SQLAlchemy's aiosqlite adapter with one thread round trip per statement instead of four.

aiosqlite runs each call (cursor, execute, fetchall, close) as its own job on the connection's
thread, and every job is a handoff of the GIL and a turn of the event loop. Under load those
handoffs, not SQLite, are what a statement costs, so this adapter runs the four calls as one job.
The semantics are SQLAlchemy's own adapter's; only the number of handoffs changes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


def _run(
    holder: aiosqlite.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, ...]:
    # Runs on aiosqlite's thread, which owns the sqlite3 connection.
    cursor: sqlite3.Cursor = holder._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _one_trip(self, operation: Any, parameters: Any, many: bool) -> None:
        try:
            connection = self._connection
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(_run, connection, operation, parameters, many)
            )
            self.description = description
            if description:
                self.lastrowid = self.rowcount = -1
                self._rows.clear()
                self._rows.extend(rows)
            else:
                self.lastrowid, self.rowcount = lastrowid, rowcount
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._one_trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._one_trip(operation, seq_of_parameters, many=True)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return _OneTripCursor(self)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to pass as `module=` when creating a sqlite+aiosqlite engine."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return _OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """A fresh instance of the adapter module."""
    return OneTripDBAPI(aiosqlite, sqlite3)
