"""Pages from templates, with what every page shows; redirects that carry a one-time notice."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import aiohttp_jinja2
from aiohttp import web

from bot.web.console.keys import ADMIN

FLASH = "jinlin_flash"


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """The template rendered with the logged-in worker, their CSRF token and any notice."""
    admin = request.get(ADMIN)
    notice = request.cookies.get(FLASH, "")
    kind, _, text = unquote(notice).partition(":")
    response = aiohttp_jinja2.render_template(
        template,
        request,
        {
            "admin": admin,
            "csrf": admin.csrf if admin else "",
            "notice": text,
            "notice_kind": kind,
            "path": request.path,
            **context,
        },
        status=status,
    )
    if notice:
        response.del_cookie(FLASH, path="/console")
    return response


def redirect(location: str, *, notice: str = "", error: bool = False) -> web.Response:
    """A 303 to `location` (so a refresh never re-posts), showing `notice` once there."""
    response = web.Response(status=303, headers={"Location": location})
    if notice:
        kind = "error" if error else "ok"
        response.set_cookie(
            FLASH, quote(f"{kind}:{notice}"), path="/console", httponly=True, samesite="Lax"
        )
    return response
