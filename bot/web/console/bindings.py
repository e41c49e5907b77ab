"""Volunteers' binding claims decided on the 志愿者 page: the very approve and reject of
同意绑定 / 拒绝绑定 in chat, so the claimant hears the same in WeChat, and the scope is theirs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.console.common import acting, number_of
from bot.web.console.keys import admin_of
from bot.web.console.render import redirect, render
from handlers import binding
from storage import bindings, scope
from storage.redact import mask

Decide = Callable[..., Awaitable[binding.Decided]]


async def claims_within(request: web.Request, session: AsyncSession) -> list[bindings.Claim]:
    """The claims waiting for a worker in the logged-in worker's communities, oldest first."""
    return await bindings.pending(session=session, community_ids=await _mine(request, session))


def claimant(claim: bindings.Claim) -> str:
    """Who claims: the name they gave the account, else a shortened openid to tell them apart."""
    return claim.claimant or f"微信用户 {mask(claim.openid)}"


async def approve(request: web.Request) -> web.StreamResponse:
    """同意: the claimant becomes the listed volunteer and is told in WeChat."""
    return await _decide(request, binding.approve)


async def reject(request: web.Request) -> web.StreamResponse:
    """拒绝: the claim is refused and the claimant told."""
    return await _decide(request, binding.reject)


async def _decide(request: web.Request, decide: Decide) -> web.StreamResponse:
    number, admin = number_of(request), admin_of(request)
    async with acting(request) as ctx:
        decided = await decide(
            ctx, number, actor=admin.actor, community_ids=await _mine(request, ctx.session)
        )
    if not decided.found:  # not in the worker's communities, or not at all: the same answer
        return render(request, "error.html", status=404, message=decided.text)
    return redirect("/console/volunteers", notice=decided.text, error=not decided.done)


async def _mine(request: web.Request, session: AsyncSession) -> Collection[int] | None:
    return await scope.community_ids(session=session, scope=admin_of(request).where.scope)
