"""Who is using the console: login, server-side sessions, CSRF, and the guard on every route.

Sessions live in the database (storage/console_sessions.py) so that any server process
behind the proxy knows them; the cookie holds a random token whose hash is the key. Every
state-changing request carries the session's CSRF token (a form field `csrf`, or the header
X-CSRF-Token for scripts); the login form, before any session, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from urllib.parse import quote

from aiohttp import web

from bot.core.config import ConsoleConfig
from bot.web.console import passwords
from bot.web.console.keys import ADMIN, Admin, admin_of
from bot.web.console.render import redirect, render
from bot.web.keys import CONFIG, DATABASE
from storage import accounts, console_sessions
from storage.types import utcnow

logger = logging.getLogger(__name__)

COOKIE = "jinlin_console"
LOGIN_COOKIE = "jinlin_login"
PATH = "/console"
PUBLIC = frozenset({"console.login", "console.login_post", "console.static"})
# The board refreshes itself: its polls must not keep an unattended session alive.
PASSIVE = frozenset({"console.board_rows", "console.broadcast_progress"})
SEEN_EVERY = timedelta(minutes=1)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _settings(request: web.Request) -> ConsoleConfig:
    return request.config_dict[CONFIG].console


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every console route but login needs a live session; every change needs its CSRF token."""
    name = request.match_info.route.name or ""
    if name in PUBLIC:
        return await handler(request)
    admin = await _session_of(request, extend=name not in PASSIVE)
    if admin is None:
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return redirect(f"{PATH}/login?next={quote(request.path_qs)}")
        raise web.HTTPUnauthorized(text="登录已过期，请重新登录。")
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get("X-CSRF-Token")
        if sent is None:
            sent = str((await request.post()).get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), admin.csrf.encode()):
            logger.warning("console: CSRF token missing or wrong on %s", request.path)
            return render(request, "error.html", status=403, message="页面已过期，请刷新后重试。")
    request[ADMIN] = admin
    return await handler(request)


async def _session_of(request: web.Request, *, extend: bool) -> Admin | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    hashed, now, settings = token_hash(token), utcnow(), _settings(request)
    async with request.config_dict[DATABASE].transaction() as session:
        found = await console_sessions.live(session=session, token_hash=hashed, now=now)
        if found is None:
            return None
        row, account = found
        if extend and now - row.seen_at >= SEEN_EVERY:
            await console_sessions.extend(
                session=session,
                token_hash=hashed,
                now=now,
                expires_at=console_sessions.capped(
                    now, row.created_at, settings.session_idle, settings.session_max
                ),
            )
        where = await accounts.where_of(session=session, account=account)
    assert account.id is not None
    return Admin(account.id, account.username, where, row.csrf_token, hashed)


# --- login and logout ---------------------------------------------------------------------


async def login(request: web.Request) -> web.StreamResponse:
    """The login form."""
    return _login_form(request)


def _login_form(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        message=message,
        login_csrf=token,
        next=_safe_next(request.query.get("next", "")),
    )
    response.set_cookie(
        LOGIN_COOKIE, token, path=PATH, httponly=True, samesite="Lax", secure=request.secure
    )
    return response


def _safe_next(target: str) -> str:
    # Only back into the console: never an open redirect to another site.
    ok = target.startswith(PATH + "/") and not target.startswith("//") and "\\" not in target
    return target if ok else PATH + "/"


async def login_post(request: web.Request) -> web.StreamResponse:
    """Check the password, counting failures in the database; open a session."""
    form = await request.post()
    sent, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_form(request, "页面已过期，请重新输入。", status=403)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    if not username or not password:
        return _login_form(request, "请输入用户名和密码。", status=400)
    settings, db, now = _settings(request), request.config_dict[DATABASE], utcnow()
    keys = [f"user:{username[:64]}", f"ip:{request.remote or '?'}"]
    # The attempt is counted before the password is checked, and committed: attempts racing
    # on several processes each see the others, so no burst gets past the limit.
    async with db.transaction() as session:
        counted = await console_sessions.record_failure(session=session, keys=keys, at=now)
    since = now - settings.login_lockout
    async with db.transaction() as session:
        by_user = await console_sessions.failures(session=session, key=keys[0], since=since)
        by_address = await console_sessions.failures(session=session, key=keys[1], since=since)
        account = await accounts.by_username(session=session, username=username)
    if by_user > settings.login_failures or by_address > settings.address_failures:
        minutes = max(1, round(settings.login_lockout.total_seconds() / 60))
        logger.warning("console: login of %r refused, too many failures", username)
        return _login_form(request, f"失败次数过多，请 {minutes} 分钟后再试。", status=429)
    if not await passwords.check(password, account.password_hash if account else None):
        return _login_form(request, "用户名或密码不正确。", status=401)
    assert account is not None and account.id is not None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with db.transaction() as session:
        await console_sessions.forget_failures(session=session, key=keys[0], ids=counted)
        await console_sessions.close_expired(session=session, now=now)
        await console_sessions.forget_old_failures(session=session, before=since)
        await console_sessions.open_session(
            session=session,
            token_hash=token_hash(token),
            account_id=account.id,
            csrf_token=csrf,
            now=now,
            expires_at=_first_expiry(now, settings),
        )
        await accounts.logged_in(session=session, account_id=account.id, at=now)
    logger.info("console: %s logged in", username)
    response = redirect(_safe_next(str(form.get("next", ""))))
    response.set_cookie(
        COOKIE, token, path=PATH, httponly=True, samesite="Lax", secure=request.secure
    )
    response.del_cookie(LOGIN_COOKIE, path=PATH)
    return response


def _first_expiry(now: datetime, settings: ConsoleConfig) -> datetime:
    return console_sessions.capped(now, now, settings.session_idle, settings.session_max)


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session everywhere."""
    async with request.config_dict[DATABASE].transaction() as session:
        await console_sessions.close(session=session, token_hash=admin_of(request).token_hash)
    response = redirect(f"{PATH}/login")
    response.del_cookie(COOKIE, path=PATH)
    return response
