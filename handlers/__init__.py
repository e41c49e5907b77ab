"""Conversation logic, one router per role or flow."""

from __future__ import annotations

from bot.router import Router
from handlers import common


def build_router() -> Router:
    """The root router with every feature's router in matching order."""
    root = Router("root")
    root.include(common.router)
    return root
