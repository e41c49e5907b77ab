"""`jinlin import volunteers` and `jinlin export requests`: the roster in and the requests out."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.roster.formats import (
    Problem,
    RosterRow,
    decode,
    export_header,
    export_line,
    format_hint,
    read_roster,
)
from bot.runtime import open_configured
from storage import migrate, roster
from storage.db import Database
from storage.errors import Conflict, InvalidInput
from storage.org import Place, add_aliases, ensure_place
from storage.roster import VolunteerData
from storage.types import utcnow

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
        stored = await store_roster(db, rows, problems, task_limit=config.routing.task_limit)
    finally:
        await db.close()
    imported, problems = stored.imported, stored.problems
    logger.info("imported %d volunteers from %s, skipped %d", imported, path, len(problems))
    out.write(
        f"imported {imported} (created {stored.created}, updated {imported - stored.created}), "
        f"skipped {len(problems)}\n"
    )
    if stored.unbound:
        out.write(
            f"{stored.unbound} without openid wait for their WeChat account: each is bound when "
            "that person says 我想当志愿者 (or 绑定) in chat with the same phone and a worker "
            "approves (同意绑定 #N)\n"
        )
    for problem in problems:
        out.write(f"{problem}\n")
    if problems:
        out.write(f"{format_hint()}\n")
    return 0


@dataclass(frozen=True)
class Stored:
    """What an import did: volunteers imported (created among them), how many of those wait
    for their WeChat account, and every skipped row with its reasons, in line order."""

    imported: int
    created: int
    unbound: int
    problems: list[Problem]


async def store_roster(
    db: Database, rows: list[RosterRow], problems: list[Problem], *, task_limit: int
) -> Stored:
    """Store the valid rows of a roster file, with their places, in one transaction.

    The one import of `jinlin import volunteers` and of the console's roster page."""
    async with db.transaction() as session:
        volunteers, taken, problems = await _placed(session, rows, problems)
        result = await roster.upsert_volunteers(
            session=session, volunteers=volunteers, task_limit=task_limit, at=utcnow()
        )
    problems += [Problem(taken[n].line, reason) for n, reason in result.refused.items()]
    problems.sort(key=lambda problem: problem.line)
    imported = len(volunteers) - len(result.refused)
    return Stored(imported, result.created, result.unbound, problems)


async def _placed(
    session: AsyncSession, rows: list[RosterRow], problems: list[Problem]
) -> tuple[list[tuple[VolunteerData, Place]], list[RosterRow], list[Problem]]:
    """Each row's volunteer with their place (created when new) and the compound's aliases;
    a row whose aliases name another compound becomes a problem."""
    places: dict[tuple[str, str, str, str | None], Place] = {}
    volunteers: list[tuple[VolunteerData, Place]] = []
    taken: list[RosterRow] = []
    problems = list(problems)
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
        if row.aliases:
            try:
                await add_aliases(
                    session=session, compound_id=places[key].compound_id, names=list(row.aliases)
                )
            except Conflict as exc:
                problems.append(Problem(row.line, str(exc)))
                continue
        volunteers.append((row.volunteer, places[key]))
        taken.append(row)
    return volunteers, taken, problems


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
    db = await open_configured(config)
    if db.is_sqlite:
        # A single-machine install has no separate upgrade step; PostgreSQL's operators run it.
        try:
            await migrate.upgrade(db)
        except BaseException:
            await db.close()
            raise
    return db
