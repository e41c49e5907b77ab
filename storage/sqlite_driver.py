"""SQLAlchemy's aiosqlite adapter, with as few thread round trips per statement as it takes.

aiosqlite runs each call (cursor, execute, fetchall, close) as its own job on the connection's
thread, and every job is a handoff of the GIL and a turn of the event loop. Under load those
handoffs, not SQLite, are what a statement costs, so this adapter:

- runs a statement's four calls as one job;
- lets BEGIN ride with the transaction's first statement instead of a job of its own.

Otherwise the semantics are SQLAlchemy's own adapter's; only the number of handoffs changes.
Measured on the webhook benchmark's real mix (issue 15, bench/bench_webhook.py): SQLAlchemy's
stock adapter costs about 0.25 ms more CPU per statement and 0.5 ms more per message of the
mix (3.3 against 2.5-3.0 ms), so this layer is kept.
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

logger = logging.getLogger(__name__)

_BEGIN = "BEGIN IMMEDIATE"


def _execute(cursor: sqlite3.Cursor, operation: str, parameters: Any, many: bool) -> None:
    if many:
        cursor.executemany(operation, parameters)
    elif parameters is None:
        cursor.execute(operation)
    else:
        cursor.execute(operation, parameters)


def _run(
    holder: aiosqlite.Connection, begin: bool, operation: str, parameters: Any, many: bool
) -> tuple[Any, ...]:
    # Runs on aiosqlite's thread, which owns the sqlite3 connection.
    cursor: sqlite3.Cursor = holder._conn.cursor()
    try:
        if begin:
            cursor.execute(_BEGIN)
        _execute(cursor, operation, parameters, many)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _one_trip(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: _OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        begin, connection.begin_pending = connection.begin_pending, False
        try:
            description, rows, lastrowid, rowcount = self.await_(
                self._connection._execute(
                    _run, self._connection, begin, operation, parameters, many
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
    __slots__ = ("begin_pending",)

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.begin_pending = False

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            self._start()
            return super().cursor(server_side=True)
        return _OneTripCursor(self)

    def begin_immediate(self) -> None:
        """Start a write transaction with the next statement instead of a trip of its own."""
        self.begin_pending = True

    def commit(self) -> None:
        if self.begin_pending:  # nothing ran: there is no transaction to commit
            self.begin_pending = False
            return
        super().commit()

    def rollback(self) -> None:
        if self.begin_pending:  # the transaction never started: nothing ran, nothing to undo
            self.begin_pending = False
            return
        super().rollback()

    def _start(self) -> None:
        if self.begin_pending:
            self.cursor().execute("SELECT 1")


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to pass as `module=` when creating a sqlite+aiosqlite engine."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return _OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """A fresh instance of the adapter module."""
    return OneTripDBAPI(aiosqlite, sqlite3)


def install(engine: Engine) -> None:
    """Wire an engine made with `one_trip_dbapi()`: IMMEDIATE transactions that start with
    their first statement."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Every transaction starts IMMEDIATE so two writers queue on the busy timeout
        # instead of failing at lock upgrade.
        conn.connection.dbapi_connection.begin_immediate()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        # Every transaction ends in COMMIT or ROLLBACK, which drop a BEGIN not yet sent;
        # should one ever not, it must not start the next user's first statement.
        if isinstance(dbapi_connection, _OneTripConnection) and dbapi_connection.begin_pending:
            logger.warning("dropping a BEGIN never sent")
            dbapi_connection.begin_pending = False
