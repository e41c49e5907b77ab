"""Where the rules, the learned scorer and the danger detector each have the last word.

Rules keep commands (5星, 接单 12) and slots; a message is an emergency when the danger
detector finds a sign of danger now, or, where the detector found no sign at all, when the
scorer's emergency head is sure enough; the scorer decides every other intent, and the
category unless it gives the rules' first one a fair chance. The thresholds were chosen by
cross-validation on the TRAIN part (python -m nlp.evaluate).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from nlp.danger import Danger
from nlp.intent import RuleIntent
from nlp.scorer import Scores

# The rules' first category (by the contract's precedence) stands when the scorer gives it
# at least this probability (0.2 and 0.3 scored best in cross-validation, 0.1 a point less).
# A word of an intent's own list, by contrast, no longer stands against the scorer: once it
# learned from the third round's messages, the scorer read the TRAIN part's intents better
# alone (0.965) than overruled by such words below 0.6 of its confidence (0.957).
KEEP_PRECEDENCE = 0.2
# Below this confidence in its intent, the parse is not sure: the bot asks before acting.
SURE = 0.6
# Below this, with no cue of the rules either, the scorer's best guess is no reading at all:
# the message is unknown (the bot says what it can do) rather than acted on or asked about.
# Cross-validation and the blind set score the same with it; 同意绑定 #1 from a resident is
# no finished task. Such a message is not one the parser is sure of either; the bot asks
# nothing of an unknown one, but says what it can do.
GUESS_FLOOR = 0.25
# The scorer alone makes a message an emergency at this probability, where the detector
# found no sign (not even a doubted one). Chosen on the head's out-of-fold curve (python -m
# nlp.evaluate prints it): on the TRAIN part alone, at 0.2 it finds 96.2% of emergencies
# for 0.6% false ones, at 0.25 only 94.3% (for 0.2%); the contract's "when in doubt, it is
# an emergency" decides the rest.
EMERGENCY = 0.2
_EMERGENCY_ODDS = math.log(EMERGENCY / (1 - EMERGENCY))
# A message the scorer gives at least this chance of being an emergency, or in which the
# detector saw any sign of danger (even one it doubted), may be an emergency: it is acted on
# at once, never held back by a question.
MAYBE_EMERGENCY = 0.1
_MAYBE_ODDS = math.log(MAYBE_EMERGENCY / (1 - MAYBE_EMERGENCY))
# An emergency stays a request for help unless the scorer is this sure it is something
# else (a volunteer's report, a cancellation).
KEEP_OTHER = 0.9
# Intents a volunteer or resident sends about help already under way.
_ABOUT_A_TASK = frozenset(
    {"accept_task", "decline_task", "complete_task", "cancel_request", "rate_service", "thanks"}
)


class Intent(NamedTuple):
    """The chosen intent and whether the parser is sure of it."""

    name: str
    sure: bool


def is_emergency(guesses: Scores | None, danger: Danger | None, hazard: bool = False) -> bool:
    """Whether a message reports danger now.

    The detector's guards (a worry, a past or handled danger, a drill) are final: the scorer
    speaks only where the detector found no sign at all, and it errs towards emergency too.
    A hazard by the lexicon's [cues.hazard] (an e-bike charging in the corridor, a blocked
    fire exit) with no sign of a kind of danger now (a fire, smoke, sparks) has nobody in
    danger now, however alarmed its words (很危险 快来人): the contract makes it safety,
    normal or urgent by the usual rule, so neither a bare cry nor the scorer makes it one.
    """
    if hazard and (danger is None or danger.category is None):
        return False
    if danger is not None:
        return danger.now
    return guesses is not None and guesses.log_odds("emergency", "yes") >= _EMERGENCY_ODDS


def may_be_emergency(guesses: Scores | None, danger: Danger | None) -> bool:
    """Whether a message might report danger: any sign, or a fair chance by the scorer."""
    if danger is not None and danger.signs:
        return True
    return guesses is not None and guesses.log_odds("emergency", "yes") >= _MAYBE_ODDS


def choose_intent(rule: RuleIntent, guesses: Scores | None, emergency: bool) -> Intent:
    """The intent of a message from the rules' and the scorer's; an emergency is always sure
    (it must never wait for an answer, nor may anything that might be one: the parser asks
    may_be_emergency of every parse this leaves unsure)."""
    if guesses is None:
        return Intent("request_help" if emergency else rule.name, True)
    guess = guesses["intent"]
    if emergency:
        keep = guess.label in _ABOUT_A_TASK and guess.confidence >= KEEP_OTHER
        return Intent(guess.label if keep else "request_help", True)
    if rule.strength == "command":
        return Intent(rule.name, True)
    if rule == ("unknown", "fallback") and guess.confidence < GUESS_FLOOR:
        return Intent("unknown", False)
    # Sure when the scorer is, or when the rules found the same by a word of their own.
    agreed = rule.name == guess.label and rule.strength != "fallback"
    return Intent(guess.label, guess.confidence >= SURE or agreed)


def choose_category(
    touched: tuple[str, ...],
    guesses: Scores | None,
    danger: Danger | None,
    hazard: bool,
    pet: bool = False,
    asked: tuple[str, ...] = (),
    told: tuple[str, ...] = (),
) -> str:
    """The category of a help request; `hazard` when it is about a hazard by the lexicon's
    [cues.hazard] (an e-bike charging in the corridor, a blocked fire exit), `pet` when a
    pet is lost, stuck or to be fed by its [cues.pet]: other, where it would be mediation
    (pets are mediation only as a quarrel between neighbours); `asked` the categories named
    in a clause with a plea (nlp.need.asked), `told` those named by what is done or suffered
    only outside such a clause: the background."""
    if danger and danger.now and danger.category:
        return danger.category
    chosen = _category(touched, guesses, hazard, asked, told)
    return "other" if pet and chosen == "mediation" else chosen


def _category(
    touched: tuple[str, ...],
    guesses: Scores | None,
    hazard: bool,
    asked: tuple[str, ...],
    told: tuple[str, ...],
) -> str:
    if guesses is None:
        return touched[0] if touched else "other"
    if hazard:
        return "safety"  # however much it reads like a quarrel between neighbours
    guess = guesses["category"]
    # The contract's precedence among the categories a message touches is a rule; the scorer
    # may overrule it, but not where it gives the rules' choice a fair chance too.
    if touched and guess.probability(touched[0]) >= KEEP_PRECEDENCE:
        # Except where the scorer prefers the help asked for (a category named in the
        # clause with the plea) to a background told outside it: 我脚痛 谁可以陪我爸聊天
        # is elderly, though medical comes first in the contract's order. Who the help is
        # for is no background: a blind, deaf or wheelchair-using resident's help is tied to
        # the disability (谁能陪盲人去银行 stays disability).
        if guess.label in asked and touched[0] in told and touched[0] != "disability":
            return guess.label
        return touched[0]
    return guess.label


def choose_urgency(rule: str, emergency: bool) -> str:
    """The urgency of a help request: emergency, else the rules' reading (urgent words,
    help wanted today)."""
    return "emergency" if emergency else rule
