"""The worker's own account: its scope, and linking their WeChat for chat commands."""

from __future__ import annotations

import secrets
from datetime import timedelta

from aiohttp import web

from bot.web.console.common import reading
from bot.web.console.keys import admin_of
from bot.web.console.render import redirect, render
from bot.web.keys import CONFIG, DATABASE
from storage import accounts
from storage.types import utcnow


async def page(request: web.Request, code: str = "", ttl: timedelta | None = None) -> web.Response:
    """Who is logged in, their scope, whether chat is linked (and a fresh code if asked)."""
    async with reading(request) as session:
        account = await accounts.get(session=session, account_id=admin_of(request).account_id)
    minutes = round(ttl.total_seconds() / 60) if ttl else 0
    return render(request, "account.html", account=account, code=code, minutes=minutes)


async def new_link_code(request: web.Request) -> web.StreamResponse:
    """A one-time code to send in chat (绑定工作台 12345678); only its hash is kept."""
    code = f"{secrets.randbelow(10**8):08d}"
    ttl = request.config_dict[CONFIG].console.link_code_ttl
    async with request.config_dict[DATABASE].transaction() as session:
        await accounts.set_link_code(
            session=session,
            account_id=admin_of(request).account_id,
            code_hash=accounts.code_hash(code),
            expires_at=utcnow() + ttl,
        )
    return await page(request, code=code, ttl=ttl)


async def unlink(request: web.Request) -> web.StreamResponse:
    """Chat commands stop acting for this account."""
    async with request.config_dict[DATABASE].transaction() as session:
        await accounts.unlink(session=session, account_id=admin_of(request).account_id)
    return redirect("/console/account", notice="已解除微信绑定。")
