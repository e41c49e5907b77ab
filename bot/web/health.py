"""/healthz: is the server up and its database reachable."""

from __future__ import annotations

from aiohttp import web

from bot.web.keys import DATABASE


async def healthz(request: web.Request) -> web.Response:
    """200 with the database reachable, 503 without."""
    reachable = await request.app[DATABASE].reachable()
    return web.json_response(
        {"status": "ok" if reachable else "degraded", "database": reachable},
        status=200 if reachable else 503,
    )
