"""The live board of requests by state, with filters, and 派单 from it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.web.console.common import acting, number_of, places_within, reading, within
from bot.web.console.keys import admin_of
from bot.web.console.render import redirect, render
from bot.web.console.words import CATEGORY, STATUS, URGENCY
from handlers.admin import assign_named
from storage import board
from storage.models import HelpRequest, Volunteer


def filters_of(request: web.Request) -> board.Filters:
    """The board's filters from the query string; unknown values are ignored, not errors."""
    query = request.query
    compound = query.get("compound", "")
    return board.Filters(
        category=query.get("category") if query.get("category") in CATEGORY else None,
        urgency=query.get("urgency") if query.get("urgency") in URGENCY else None,
        compound_id=int(compound) if compound.isdigit() else None,
        status=query.get("status") if query.get("status") in STATUS else None,
    )


async def _rows_context(request: web.Request) -> dict[str, Any]:
    filters = filters_of(request)
    async with reading(request) as session:
        where = await within(request, session, HelpRequest.compound_id)
        rows = await board.board(session=session, where=where, filters=filters)
        counts = await board.counts(session=session, where=where, filters=filters)
    kept = {k: v for k, v in request.query.items() if k in ("category", "urgency", "compound")}
    return {
        "rows": rows,
        "counts": counts,
        "filters": filters,
        "query": request.query_string,
        "chip": lambda status: urlencode({**kept, "status": status}),
    }


async def page(request: web.Request) -> web.StreamResponse:
    """The board: filters, counts by state, the requests; refreshes itself (board.js)."""
    context = await _rows_context(request)
    async with reading(request) as session:
        compounds = await places_within(request, session)
        names = await board.volunteer_names(
            session=session, where=await within(request, session, Volunteer.compound_id)
        )
    return render(request, "board.html", compounds=compounds, names=names, **context)


async def rows(request: web.Request) -> web.StreamResponse:
    """Just the board's requests, for the page to refresh itself with."""
    return render(request, "board_rows.html", **await _rows_context(request))


async def assign(request: web.Request) -> web.StreamResponse:
    """派单: the request goes to the named volunteer, by the same rules as in chat."""
    form = await request.post()
    number, name = number_of(request), str(form.get("volunteer", "")).strip()
    back = str(form.get("back", "")) or "/console/"
    if not back.startswith("/console/"):
        back = "/console/"
    if not name:
        return redirect(back, notice=f"请填写要派单给哪位志愿者（#{number}）。", error=True)
    if len(name) > 64:
        return redirect(back, notice="志愿者姓名太长了。", error=True)
    admin = admin_of(request)
    async with acting(request) as ctx:
        assigned = await assign_named(ctx, admin.where.scope, number, name, actor=admin.actor)
    return redirect(back, notice=assigned.text, error=not assigned.done)
