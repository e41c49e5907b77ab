"""The community workers' console at /console: a sub-application of the server, so its guard
(session and CSRF, bot/web/console/auth.py) stands in front of every one of its routes."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.core.config import Config
from bot.web.console import (
    account,
    auth,
    bindings,
    board,
    broadcasts,
    history,
    qrcodes,
    reports,
    roster,
    words,
)
from handlers import texts

HERE = Path(__file__).parent


def create_console(config: Config) -> web.Application:
    """The console, to be mounted at /console."""
    console = web.Application(middlewares=[auth.guard])
    tz = config.org.tz
    env = aiohttp_jinja2.setup(
        console,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["local"] = lambda moment: words.local_time(moment, tz)
    # The resident's 我妈 is, to a worker reading the page, the 求助人's mother.
    env.filters["hours"] = texts.hours  # minutes as chat says them: 0, 1.5 (小时)
    env.filters["for_whom"] = lambda beneficiary: texts.for_whom(beneficiary, whose="求助人")
    env.globals.update(
        STATUS=words.STATUS,
        URGENCY=words.URGENCY,
        CATEGORY=words.CATEGORY,
        TIERS=words.TIERS,
        EVENTS=words.EVENTS,
        OUTCOMES=words.OUTCOMES,
        ASSIGNABLE=words.ASSIGNABLE,
        refresh_ms=int(config.console.board_refresh.total_seconds() * 1000),
    )
    add = console.router.add_route
    add("GET", "/login", auth.login, name="console.login")
    add("POST", "/login", auth.login_post, name="console.login_post")
    add("POST", "/logout", auth.logout, name="console.logout")
    add("GET", "/", board.page, name="console.board")
    add("GET", "/board/rows", board.rows, name="console.board_rows")
    add("GET", "/requests/{number:\\d+}", history.page, name="console.request")
    add("POST", "/requests/{number:\\d+}/assign", board.assign, name="console.assign")
    add("GET", "/volunteers", roster.page, name="console.volunteers")
    add("POST", "/volunteers/import", roster.import_csv, name="console.volunteers_import")
    add("GET", "/volunteers.csv", roster.export_csv, name="console.volunteers_csv")
    add("POST", "/bindings/{number:\\d+}/approve", bindings.approve, name="console.bind_approve")
    add("POST", "/bindings/{number:\\d+}/reject", bindings.reject, name="console.bind_reject")
    add("GET", "/qrcodes", qrcodes.page, name="console.qrcodes")
    add(
        "GET",
        "/compounds/{compound:\\d+}/qrcode.png",
        qrcodes.png,
        name="console.compound_qrcode",
    )
    add("GET", "/reports", reports.page, name="console.reports")
    add("GET", "/reports.csv", reports.export_csv, name="console.reports_csv")
    add("GET", "/broadcasts", broadcasts.page, name="console.broadcasts")
    add("POST", "/broadcasts", broadcasts.create, name="console.broadcast_create")
    add("GET", "/broadcasts/preview", broadcasts.preview, name="console.broadcast_preview")
    add("GET", "/broadcasts/{number:\\d+}", broadcasts.notice_page, name="console.broadcast")
    add(
        "GET",
        "/broadcasts/{number:\\d+}/progress",
        broadcasts.progress_json,
        name="console.broadcast_progress",
    )
    add(
        "POST",
        "/broadcasts/{number:\\d+}/cancel",
        broadcasts.cancel,
        name="console.broadcast_cancel",
    )
    add("GET", "/account", account.page, name="console.account")
    add("POST", "/account/link-code", account.new_link_code, name="console.link_code")
    add("POST", "/account/unlink", account.unlink, name="console.unlink")
    console.router.add_static("/static", HERE / "static", name="console.static")
    return console
