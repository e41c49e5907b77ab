"""Pending questions: a flow's state is stored on the user, with an expiry."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import Any

from bot.core.context import Ctx
from storage import users
from storage.models import User

QUESTION_TTL = timedelta(hours=2)


async def ask(ctx: Ctx, user: User, state: Enum, data: dict[str, Any] | None = None) -> None:
    """Wait for the user's answer in `state` (the router sends it to that state's handler)."""
    await restore(ctx, user, (type(state).__name__, state.name, data or {}))


async def restore(ctx: Ctx, user: User, pending: tuple[str, str, dict[str, Any]]) -> None:
    """Wait again for the answer to a question another interrupted (as users.dialog gave it)."""
    flow, state, data = pending
    await users.set_dialog(
        session=ctx.session,
        user=user,
        flow=flow,
        state=state,
        data=data,
        expires_at=ctx.now + QUESTION_TTL,
    )


async def finish(ctx: Ctx, user: User) -> None:
    """No question is pending any more."""
    await users.set_dialog(session=ctx.session, user=user, flow=None)
