"""SQLAlchemy's aiosqlite adapter, with as few thread round trips per transaction as it takes.

aiosqlite runs each call (cursor, execute, fetchall, close) as its own job on the connection's
thread, and every job is a handoff of the GIL and a turn of the event loop. Under load those
handoffs, not SQLite, are what a statement costs, so this adapter:

- runs a statement's four calls as one job;
- defers what needs no answer to the next job: BEGIN rides with the transaction's first
  statement, and a write handed over with `defer()` (message keys, storage.messages) rides
  with the next statement or with COMMIT, whose error it then becomes.

Otherwise the semantics are SQLAlchemy's own adapter's; only the number of handoffs changes.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

logger = logging.getLogger(__name__)

_Deferred = tuple[str, Any, bool]  # operation, parameters, executemany
_BEGIN: _Deferred = ("BEGIN IMMEDIATE", None, False)


def _execute(cursor: sqlite3.Cursor, operation: str, parameters: Any, many: bool) -> None:
    if many:
        cursor.executemany(operation, parameters)
    elif parameters is None:
        cursor.execute(operation)
    else:
        cursor.execute(operation, parameters)


def _run(
    holder: aiosqlite.Connection,
    deferred: list[_Deferred],
    operation: str,
    parameters: Any,
    many: bool,
) -> tuple[Any, ...]:
    # Runs on aiosqlite's thread, which owns the sqlite3 connection.
    cursor: sqlite3.Cursor = holder._conn.cursor()
    try:
        for earlier in deferred:
            _execute(cursor, *earlier)
        _execute(cursor, operation, parameters, many)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _commit(holder: aiosqlite.Connection, deferred: list[_Deferred]) -> None:
    # SQLAlchemy takes a failed COMMIT as the end of the transaction and never rolls it back,
    # so a deferred write that fails here rolls the transaction back itself.
    cursor: sqlite3.Cursor = holder._conn.cursor()
    try:
        for earlier in deferred:
            _execute(cursor, *earlier)
        holder._conn.commit()
    except BaseException:
        holder._conn.rollback()
        raise
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _one_trip(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: _OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        deferred, connection.deferred = connection.deferred, []
        try:
            description, rows, lastrowid, rowcount = self.await_(
                self._connection._execute(
                    _run, self._connection, deferred, operation, parameters, many
                )
            )
            self.description = description
            if description:
                self.lastrowid = self.rowcount = -1
                self._rows.clear()
                self._rows.extend(rows)
            else:
                self.lastrowid, self.rowcount = lastrowid, rowcount
        except Exception as error:
            connection._handle_exception(error)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._one_trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._one_trip(operation, seq_of_parameters, many=True)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("deferred",)

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.deferred: list[_Deferred] = []

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            self._flush()
            return super().cursor(server_side=True)
        return _OneTripCursor(self)

    def begin_immediate(self) -> None:
        """Start a write transaction with the next statement instead of a trip of its own."""
        self.deferred.append(_BEGIN)

    def commit(self) -> None:
        deferred, self.deferred = self.deferred, []
        if deferred == [_BEGIN]:
            return  # nothing ran: there is no transaction to commit
        try:
            self.await_(self._connection._execute(_commit, self._connection, deferred))
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        deferred, self.deferred = self.deferred, []
        if deferred[:1] == [_BEGIN]:
            return  # the transaction never started: nothing ran, nothing to undo
        super().rollback()

    def _flush(self) -> None:
        if self.deferred:
            self.cursor().execute("SELECT 1")


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to pass as `module=` when creating a sqlite+aiosqlite engine."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return _OneTripConnection(self, adapted._connection)


async def defer(conn: AsyncConnection, operation: str, rows: list[tuple[Any, ...]]) -> None:
    """Hand rows for a write straight to the driver, to ride with the next trip (COMMIT at
    the latest): no statement machinery at all for a write whose result nobody reads."""
    raw = await conn.get_raw_connection()
    adapted = raw.dbapi_connection
    if not isinstance(adapted, _OneTripConnection):
        raise TypeError("not a connection of this adapter")
    adapted.deferred.append((operation, rows, True))


def one_trip_dbapi() -> OneTripDBAPI:
    """A fresh instance of the adapter module."""
    return OneTripDBAPI(aiosqlite, sqlite3)


def install(engine: Engine) -> None:
    """Wire an engine made with `one_trip_dbapi()`: IMMEDIATE transactions that start with
    their first statement, and nothing deferred left behind on a returned connection."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Every transaction starts IMMEDIATE so two writers queue on the busy timeout
        # instead of failing at lock upgrade.
        conn.connection.dbapi_connection.begin_immediate()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        # Every transaction ends in COMMIT or ROLLBACK, which take or drop what was deferred;
        # should one ever not, its writes must not ride with the next user's first statement.
        if isinstance(dbapi_connection, _OneTripConnection) and dbapi_connection.deferred:
            logger.warning("dropping %d deferred statement(s)", len(dbapi_connection.deferred))
            dbapi_connection.deferred = []
