"""Deciding what a message is for: the intent."""

from __future__ import annotations

from typing import NamedTuple

from nlp.signals import Signals


class IntentFacts(NamedTuple):
    """What the intent decision needs besides the cue hits."""

    has_category: bool
    has_task_ref: bool
    score_number: int | None
    stars: bool


def decide_intent(signals: Signals, order: tuple[str, ...], facts: IntentFacts) -> str:
    """The intent: the first in `order` whose cues count, else request_help, else small talk."""
    plea = signals.has("plea")
    # A plea about a need: volunteer-side soft cues (去不了, 有空) are then part of the story.
    help_like = plea and facts.has_category
    soft_counts = not help_like or facts.has_task_ref or signals.has("task")
    for intent in order:
        if intent == "rate_service" and facts.score_number is not None:
            return intent
        if signals.has(f"i:{intent}"):
            if intent == "usage_help" and help_like:
                continue  # 谁能教我怎么用手机 asks for a person, not for the manual
            return intent
        if not soft_counts:
            continue
        if intent == "rate_service" and signals.has("score"):
            return intent
        if signals.has(f"s:{intent}") and not (intent == "volunteer_signup" and plea):
            return intent
    if signals.has("thanks_for_help"):
        return "thanks"
    if facts.has_category or plea:
        return "request_help"
    if signals.has("i:thanks"):
        return "thanks"
    if signals.has("i:greeting"):
        return "greeting"
    if facts.stars:
        return "rate_service"
    return "unknown"
