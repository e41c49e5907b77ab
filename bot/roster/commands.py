"""`jinlin import volunteers` and `jinlin export requests`: the roster in and the requests out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.core.config import Config
from bot.roster.formats import RosterRow, decode, export_header, export_line, read_roster
from storage import migrate, roster
from storage.db import Database, open_database
from storage.errors import InvalidInput
from storage.org import Place, ensure_place

logger = logging.getLogger(__name__)


async def import_volunteers(config: Config, path: Path, out: TextIO) -> int:
    """Import the volunteers of a roster CSV, print a summary and the skipped rows; exit code.

    A file that cannot be read raises InvalidInput (one line, naming the file) before the
    database is touched; bad rows are only reported.
    """
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        rows, problems = read_roster(decode(data), default_street=config.org.street)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    db = await _open(config)
    try:
        created = await store_roster(db, rows, task_limit=config.routing.task_limit)
    finally:
        await db.close()
    logger.info("imported %d volunteers from %s, skipped %d", len(rows), path, len(problems))
    out.write(
        f"imported {len(rows)} (created {created}, updated {len(rows) - created}), "
        f"skipped {len(problems)}\n"
    )
    for problem in problems:  # already in line order
        out.write(f"{problem}\n")
    return 0


async def store_roster(db: Database, rows: Sequence[RosterRow], *, task_limit: int) -> int:
    """Create or update the volunteers of these rows, and their places; how many were new.

    The one import of `jinlin import volunteers` and of the console's roster page."""
    async with db.transaction() as session:
        places: dict[tuple[str, str, str, str | None], Place] = {}
        volunteers = []
        for row in rows:
            key = (row.street, row.community, row.compound, row.volunteer.building)
            if key not in places:
                places[key] = await ensure_place(
                    session=session,
                    street=row.street,
                    community=row.community,
                    compound=row.compound,
                    building=row.volunteer.building,
                )
            volunteers.append((row.volunteer, places[key]))
        return await roster.upsert_volunteers(
            session=session, volunteers=volunteers, task_limit=task_limit
        )


async def export_requests(config: Config, fmt: str, out: TextIO) -> int:
    """Write every request, in order of number, as JSON lines or CSV; exit code."""
    header = export_header(fmt)  # an unknown format fails before the database is opened
    tz = config.org.tz
    db = await _open(config)
    try:
        out.write(header)
        async for row in roster.request_rows(db=db):
            out.write(export_line(row, fmt=fmt, tz=tz))
    finally:
        await db.close()
    out.flush()
    return 0


async def _open(config: Config) -> Database:
    db = open_database(config.database.url)
    if db.is_sqlite:
        # A single-machine install has no separate upgrade step; PostgreSQL's operators run it.
        try:
            await migrate.upgrade(db)
        except BaseException:
            await db.close()
            raise
    return db
