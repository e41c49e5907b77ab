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


class IntentTags(NamedTuple):
    """An intent with the tags of its cue groups (see nlp.signals)."""

    name: str
    cues: str
    soft_cues: str


def intent_tags(order: tuple[str, ...]) -> tuple[IntentTags, ...]:
    """The lexicon's intent order with each intent's tags, spelled once at start-up."""
    return tuple(IntentTags(name, f"i:{name}", f"s:{name}") for name in order)


class RuleIntent(NamedTuple):
    """The rules' intent and how firmly they found it.

    `strength` is "command" for a score or a task number with its verb (5星, 接单 12),
    "cue" for a word of the intent's own list, "soft" for a weaker cue, and "fallback"
    when no intent cue fired and the rules only guessed from a plea or small talk.
    """

    name: str
    strength: str


def decide_intent(
    signals: Signals, order: tuple[IntentTags, ...], facts: IntentFacts
) -> RuleIntent:
    """The intent: the first in `order` whose cues count, else request_help, else small talk."""
    hits = signals.hits  # tags tested with `in`: some twenty per message
    plea = "plea" in hits
    # A plea about a need: volunteer-side soft cues (去不了, 有空) are then part of the story.
    help_like = plea and facts.has_category
    soft_counts = not help_like or facts.has_task_ref or "task" in hits
    for intent, cues, soft_cues in order:
        if intent == "rate_service" and facts.score_number is not None:
            return RuleIntent(intent, "command")
        if cues in hits:
            if intent == "usage_help" and help_like:
                continue  # 谁能教我怎么用手机 asks for a person, not for the manual
            return RuleIntent(intent, "command" if facts.has_task_ref else "cue")
        if not soft_counts:
            continue
        if intent == "rate_service" and "score" in hits:
            return RuleIntent(intent, "cue")
        if soft_cues in hits and not (intent == "volunteer_signup" and plea):
            return RuleIntent(intent, "soft")
    if "thanks_for_help" in hits:
        return RuleIntent("thanks", "cue")
    if facts.has_category or plea:
        # A plea about a need (帮我买菜) is the rules' own sign of a request.
        return RuleIntent("request_help", "cue" if help_like else "fallback")
    if "i:thanks" in hits:
        return RuleIntent("thanks", "fallback")
    if "i:greeting" in hits:
        return RuleIntent("greeting", "fallback")
    if facts.stars:
        return RuleIntent("rate_service", "command")  # stars and nothing else: a rating
    return RuleIntent("unknown", "fallback")
