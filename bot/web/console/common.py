"""What the console's pages share: reading the database, the worker's scope as SQL, and a
unit of work that notifies people the way chat does."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Ctx, Notifier
from bot.roster.formats import safe_cell
from bot.web.console.keys import admin_of
from bot.web.keys import CONFIG, DATABASE, RUNTIME
from storage import org, scope
from storage.org import Place
from storage.types import utcnow


@asynccontextmanager
async def reading(request: web.Request) -> AsyncIterator[AsyncSession]:
    """A session for reads (no writer's turn needed)."""
    async with request.config_dict[DATABASE].sessions() as session:
        yield session


@asynccontextmanager
async def acting(request: web.Request) -> AsyncIterator[Ctx]:
    """A transaction with a Ctx, as a chat handler gets; its messages go out after commit."""
    async with request.config_dict[DATABASE].transaction() as session:
        notify = Notifier(session)
        yield Ctx(session, request.config_dict[CONFIG], notify, utcnow())
    if notify.queued:
        request.config_dict[RUNTIME].queued()


async def within(request: web.Request, session: AsyncSession, column: Any) -> ColumnElement[bool]:
    """The logged-in worker's scope as a condition on a compound-id column."""
    return await scope.where_placed(
        session=session, scope=admin_of(request).where.scope, column=column
    )


async def places_within(request: web.Request, session: AsyncSession) -> list[Place]:
    """The compounds inside the worker's scope."""
    mine = admin_of(request).where.scope
    return [
        place
        for place in await org.places(session=session)
        if scope.covers(mine, place.community_id, place.street_id)
    ]


def number_of(request: web.Request) -> int:
    return int(request.match_info["number"])


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[str | int | None]], *, filename: str
) -> web.Response:
    """A CSV download: a BOM so that Excel reads UTF-8, cells safe from formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": attachment(filename)},
    )


def attachment(filename: str) -> str:
    """A Content-Disposition that downloads as `filename`: in UTF-8 by RFC 5987 (filename*,
    which every current browser reads), and in ASCII with the rest as "_" for any other."""
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    if plain == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
