"""Conversation logic, one router per role or flow."""

from __future__ import annotations

from bot.core.router import Router
from handlers import (
    admin,
    binding,
    broadcast,
    cancelling,
    clarify,
    common,
    feedback,
    link,
    phone,
    privacy,
    relay,
    resident,
    signup,
    volunteer,
)


def build_router() -> Router:
    """The root router with every feature's router in matching order."""
    root = Router("root")
    # Who may do what is declared on each route; among routes matching the same message the
    # earlier router wins, so the specific ones (admin, volunteer) come before the general.
    root.include(
        admin.router,
        link.router,
        binding.router,
        broadcast.router,
        phone.router,
        # Before every handler that acts on a reading of a sentence: an unsure reading is
        # asked about first (never an emergency, never words inside a relayed conversation).
        clarify.router,
        signup.router,
        # Before the volunteer's and resident's readings of a sentence: words for the other
        # side of an accepted task are relayed, not taken as a new request or a task command.
        relay.router,
        volunteer.router,
        privacy.router,
        feedback.router,
        cancelling.router,
        resident.router,
        common.router,
    )
    return root
