"""The simulator's web page: WeChat on a phone-sized screen, live over a WebSocket.

HTML is rendered on the server (Jinja2), the same fragment for a bubble whether it is in the
first page or pushed later; the page's JavaScript only inserts what it is sent and posts what
the persona does.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web
from aiohttp.typedefs import Handler

from bot.simulator.chat import QUEUE, Change, Entry
from bot.simulator.personas import PERSONAS, ROLE_NAMES, Persona, Role
from bot.simulator.phones import Phones
from bot.simulator.window import fault_choices, window_view
from nlp import CATEGORIES
from storage.availability import SLOTS
from storage.errors import InvalidInput
from storage.types import utcnow

logger = logging.getLogger(__name__)

PHONES = web.AppKey("phones", Phones)
SOCKETS = web.AppKey("sockets", weakref.WeakSet[web.WebSocketResponse])
STATIC = Path(__file__).resolve().parent / "static"
BOT_KINDS = {"reply": "被动回复", "custom": "客服消息", "template": "模板消息", "mass": "群发消息"}


def setup_page(app: web.Application, phones: Phones) -> None:
    """Add the page, its WebSocket, its actions and its assets to the stand-in's app."""
    app[PHONES] = phones
    app[SOCKETS] = weakref.WeakSet()
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.simulator", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tz = phones.config.org.tz
    env.filters["clock"] = lambda at: at.astimezone(tz).strftime("%H:%M")
    modes = {"plain": "明文模式", "compat": "兼容模式", "safe": "安全模式"}
    env.globals.update(
        bot_kinds=BOT_KINDS, role_names=ROLE_NAMES, mode=modes[phones.config.wechat.mode]
    )
    app.router.add_get("/", show)
    app.router.add_get("/ws", websocket)
    app.router.add_post("/api/personas/{openid}/act", act)
    app.router.add_post("/api/personas/{openid}/back", set_back)
    app.router.add_post("/api/personas/{openid}/quota", use_quota)
    app.router.add_post("/api/personas/{openid}/seen", seen)
    app.router.add_get("/api/personas/{openid}/window", window)
    app.router.add_static("/static/", STATIC)
    app.middlewares.append(_watch_standin)
    app.on_shutdown.append(_close_sockets)


def describe(persona: Persona) -> str:
    """One line under a persona's name: where they live and what they do."""
    home = f"{persona.compound}{persona.building}号楼" if persona.compound else "住址未登记"
    if persona.role == Role.WORKER:
        return f"{persona.community} · 派单、统计"
    if persona.role == Role.VOLUNTEER:
        skills = "/".join(CATEGORIES[s] for s in persona.skills)
        when = "、".join(SLOTS[s] for s in persona.availability)
        return f"{home} · {skills} · {when}"
    return home


@aiohttp_jinja2.template("simulator.html")
async def show(request: web.Request) -> dict[str, Any]:
    phones = request.app[PHONES]
    openid = request.query.get("persona", PERSONAS[0].openid)
    try:
        persona = phones.persona(openid)
    except InvalidInput:
        raise web.HTTPFound("/") from None
    phones.chat.mark_seen(openid)
    groups = [(role, [p for p in PERSONAS if p.role == role]) for role in Role]
    unread = phones.chat.unread()
    return {
        "persona": persona,
        "entries": phones.chat.of(openid),
        "groups": groups,
        "describe": describe,
        "unread": unread,
        "unread_total": sum(n for who, n in unread.items() if who != openid),
        **_fragments(phones, openid),
    }


def _fragments(phones: Phones, openid: str, now: datetime | None = None) -> dict[str, Any]:
    return {
        "window": window_view(phones.standin, openid, now or utcnow()),
        "menu": phones.standin.menu or [],
        "faults": phones.standin.pending_faults(),
        "fault_choices": fault_choices(),
    }


def render(request: web.Request, name: str, **context: Any) -> str:
    env = aiohttp_jinja2.get_env(request.app)
    return env.get_template(name).render(**context)


def _message(request: web.Request, change: Change, openid: str | None) -> dict[str, Any]:
    """What a page showing `openid` is sent for a change (rendered HTML and where it goes)."""
    phones = request.app[PHONES]
    if change.what == "entry" and change.entry is not None:
        entry: Entry = change.entry
        return {
            "type": "entry",
            "openid": entry.openid,
            "id": entry.id,
            "side": entry.side,
            "html": render(request, "_entry.html", entry=entry),
        }
    if change.what == "status":
        if change.openid != openid or openid is None:
            return {"type": "status", "openid": change.openid}
        fragments = _fragments(phones, openid)
        return {
            "type": "status",
            "openid": openid,
            "html": render(request, "_window.html", window=fragments["window"]),
            "following": fragments["window"].following,
        }
    if change.what == "menu":
        return {"type": "menu", "html": render(request, "_menu.html", menu=phones.standin.menu)}
    faults = phones.standin.pending_faults()
    return {"type": "faults", "html": render(request, "_faults_pending.html", faults=faults)}


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Push every change to the page as it happens; the page sends nothing back here.

    `after` is the last entry the page has: what came between its rendering and this
    connection is sent first (the page skips what it already shows).
    """
    openid = request.query.get("persona")
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        after = 0
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    chat = request.app[PHONES].chat
    request.app[SOCKETS].add(socket)
    queue = chat.listen()
    missed = [e for e in chat.of(openid or "") if after and e.id > after]
    for entry in missed[-QUEUE:]:
        queue.put_nowait(Change("entry", entry.openid, entry))

    async def pump() -> None:
        while True:
            change = await queue.get()
            await socket.send_json(_message(request, change, openid))

    pumping = asyncio.create_task(pump())
    try:
        async for _ in socket:  # returns when the page goes away
            pass
    finally:
        chat.stop_listening(queue)
        pumping.cancel()
        with suppress(asyncio.CancelledError, ConnectionError):
            await pumping
    return socket


async def _close_sockets(app: web.Application) -> None:
    sockets = app[SOCKETS]
    for socket in list(sockets):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise InvalidInput("请求格式不对") from None
    if not isinstance(body, dict):
        raise InvalidInput("请求格式不对")
    return body


def _answer(
    call: Callable[[web.Request], Awaitable[None]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Run an action; a persona's mistake is a 400 with one line of Chinese."""

    async def handler(request: web.Request) -> web.Response:
        try:
            await call(request)
        except InvalidInput as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    return handler


@_answer
async def act(request: web.Request) -> None:
    body = await _body(request)
    await request.app[PHONES].act(
        request.match_info["openid"],
        str(body.get("kind", "")),
        text=str(body.get("text") or ""),
        key=str(body.get("key") or ""),
    )


@_answer
async def set_back(request: web.Request) -> None:
    body = await _body(request)
    try:
        hours = float(body.get("hours", 0))
    except (TypeError, ValueError):
        raise InvalidInput("小时数不对") from None
    await request.app[PHONES].set_back(request.match_info["openid"], hours)


@_answer
async def use_quota(request: web.Request) -> None:
    await request.app[PHONES].use_quota(request.match_info["openid"])


@_answer
async def seen(request: web.Request) -> None:
    body = await _body(request)
    phones = request.app[PHONES]
    openid = request.match_info["openid"]
    phones.persona(openid)
    try:
        phones.chat.mark_seen(openid, int(body.get("id", 0)))
    except (TypeError, ValueError):
        raise InvalidInput("消息编号不对") from None


async def window(request: web.Request) -> web.Response:
    """The window-and-quota line of one persona, as it reads now."""
    phones = request.app[PHONES]
    openid = request.match_info["openid"]
    try:
        phones.persona(openid)
    except InvalidInput as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    html = render(request, "_window.html", window=window_view(phones.standin, openid, utcnow()))
    return web.Response(text=html, content_type="text/html")


@web.middleware
async def _watch_standin(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Calls to WeChat's API change what the page shows (the menu, pending faults) and what a
    # restart must find (tokens, tags): tell the pages and the saver.
    if not request.path.startswith(("/cgi-bin/", "/standin/")):
        return await handler(request)
    phones = request.app[PHONES]
    faults = len(phones.standin.pending_faults())
    try:
        return await handler(request)
    finally:
        phones.chat.changed()
        if request.path == "/cgi-bin/menu/create":
            phones.chat.publish(Change("menu"))
        if len(phones.standin.pending_faults()) != faults:
            phones.chat.publish(Change("faults"))
