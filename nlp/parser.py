"""The Parser: one message in, one Parse out."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from nlp.beneficiary import BeneficiaryReader
from nlp.combine import (
    choose_category,
    choose_intent,
    choose_urgency,
    is_emergency,
    may_be_emergency,
)
from nlp.danger import Danger, DangerDetector
from nlp.features import message_features
from nlp.intent import IntentFacts, decide_intent, intent_tags
from nlp.lexicon import load_lexicon
from nlp.model import Parse
from nlp.need import asked, categories, category_tags, urgency
from nlp.normalize import Normalizer, has_stars, load_variants
from nlp.numerals import NUM_CHARS
from nlp.scorer import LinearScorer
from nlp.segmenter import Segmenter
from nlp.signals import CueIndex, Signals
from nlp.slots import read_phone, read_score_number, read_task_ref
from nlp.when import WhenReader
from nlp.where import Compounds, WhereReader

# Small talk and questions about the account are about no particular time.
_TIMELESS = frozenset({"unknown", "greeting", "thanks", "usage_help"})
# Messages that describe a problem, whose bare parts of day are often the problem's time.
_DESCRIBES_PROBLEM = frozenset({"request_help", "complaint"})
# Intents sent by the resident who needs the help, so a beneficiary makes sense.
_RESIDENT = frozenset({"request_help", "check_status", "cancel_request"})
# Every task, score, phone and address pattern needs a digit or a Chinese numeral (\d as
# those patterns use it, so any Unicode digit); most chat has none, and skips them all.
_NUMERAL = re.compile(rf"[\d{NUM_CHARS}]")


class Reading(NamedTuple):
    """One message as the rules read it, before any decision."""

    compound: str | None
    clean: str
    tokens: list[str]
    signals: Signals
    numbered: bool
    task_ref: str | None
    facts: IntentFacts
    touched: tuple[str, ...]
    skills: tuple[str, ...]
    danger: Danger | None


class Parser:
    """Turns chat messages into Parses; built once at start-up, then pure and thread-safe.

    `weights` is the learned scorer's file (nlp/weights.json by default), read once here;
    `use_model=False` leaves the scorer out, for training it and for measuring the rules.
    """

    def __init__(
        self,
        extra_lexicon: Path | None = None,
        cache_dir: Path | None = None,
        weights: Path | None = None,
        use_model: bool = True,
    ) -> None:
        lexicon = load_lexicon(extra_lexicon)
        self.model = LinearScorer.load(weights) if use_model else None
        self._scores = lexicon.scores
        self._danger = DangerDetector.load(lexicon.category_order)
        # The lexicon's own [typos] (an extra lexicon may add some) after the shipped table.
        self._normalize = Normalizer([*load_variants().items(), *lexicon.typos])
        self._index = CueIndex(lexicon)
        self._intents = intent_tags(lexicon.intent_order)
        self._categories = category_tags(lexicon.category_order)
        # Time words are kept whole too, so 早上 is never read as the greeting 早.
        time_words = [*lexicon.time["days"], *lexicon.time["day_parts"], *lexicon.time["parts"]]
        time_words += [*lexicon.time["past"], *lexicon.time["ignore"]]
        self._segmenter = Segmenter(
            [*self._index.words, *lexicon.segment_words, *time_words], cache_dir
        )
        self._when = WhenReader(lexicon.time)
        self._where = WhereReader(lexicon.address["room_lead"])
        self._beneficiary = BeneficiaryReader(lexicon.beneficiary)
        self._compounds = Compounds()
        self._compounds_lock = threading.Lock()

    def add_compounds(self, names: Iterable[str]) -> None:
        """Register residential compound names (阳光花园, 幸福里小区) to recognise in messages."""
        with self._compounds_lock:
            pairs = self._compounds.pairs()
            for name in names:
                normalised = self._normalize(name).replace(" ", "")
                if normalised:
                    pairs.extend((alias, name) for alias in Compounds.aliases(normalised))
            # Replaced whole, so a parse running meanwhile sees either the old or the new set.
            self._compounds = Compounds(pairs)

    def read(self, text: str) -> Reading:
        """What the rules see in one message: normalised text, words, cue hits, commands."""
        compound, clean = self._compounds.find(self._normalize(text))
        tokens = self._segmenter.cut(clean)
        signals = self._index.scan(clean, tokens)
        numbered = _NUMERAL.search(clean) is not None
        task_ref = read_task_ref(clean) if numbered else None
        score_number = read_score_number(clean) if numbered else None
        touched, skills = categories(signals, self._categories)
        facts = IntentFacts(bool(touched), task_ref is not None, score_number, has_stars(text))
        danger = self._danger.read(clean)
        return Reading(
            compound, clean, tokens, signals, numbered, task_ref, facts, touched, skills, danger
        )

    def features(self, text: str) -> list[str]:
        """The learned scorer's features of one message (see nlp.features)."""
        return _features(self.read(text))

    def parse(self, text: str, now: datetime) -> Parse:
        """What one message means; `now` is the naive local (Asia/Shanghai) wall-clock time."""
        reading = self.read(text)
        clean, signals, numbered, danger = (
            reading.clean,
            reading.signals,
            reading.numbered,
            reading.danger,
        )
        guesses = self.model.score_message(clean, _tags(reading)) if self.model else None
        rule = decide_intent(signals, self._intents, reading.facts)
        hazard = "hazard" in signals.hits
        emergency = is_emergency(guesses, danger, hazard)
        intent, sure = choose_intent(rule, guesses, emergency)
        if not sure:
            sure = may_be_emergency(guesses, danger)  # then it is acted on, never asked
        when = None
        if intent in _DESCRIBES_PROBLEM:
            # Requests and complaints tell a story too (晚上黑漆漆的, 说好上午来): a bare
            # part of day is the help's time only in a clause that asks for something.
            when = self._when.read(clean, now, signals.pleads)
        elif intent not in _TIMELESS:
            when = self._when.read(clean, now)
        category = level = score = None
        if intent == "request_help":
            wanted = asked(signals, self._categories)
            category = choose_category(
                reading.touched,
                guesses,
                danger,
                hazard,
                "pet" in signals.hits,
                wanted,
                tuple(name for name in reading.skills if name not in wanted),
            )
            today = when is not None and when.at.date() == now.date()
            level = choose_urgency(urgency(signals, today), emergency)
        elif intent == "rate_service":
            score = reading.facts.score_number
            if score is None:
                score = next((self._scores[w] for w in signals.words("score")), None)
        return Parse(
            intent=intent,
            category=category,
            urgency=level,
            when=when.to_contract() if when else None,
            where=self._where.read(clean) if numbered else None,
            phone=read_phone(clean) if numbered else None,
            score=score,
            task_ref=reading.task_ref,
            compound=reading.compound,
            skills=reading.skills,
            beneficiary=self._beneficiary.read(clean) if intent in _RESIDENT else None,
            when_at=when.at if when else None,
            when_has_time=bool(when and when.has_time),
            plea="plea" in signals.hits,
            sure=sure,
        )


def _features(reading: Reading) -> list[str]:
    return message_features(reading.clean, _tags(reading))


def _tags(reading: Reading) -> list[str]:
    """The cue tags of a message: the lexicon's and the rules' (not the danger detector's,
    so that the scorer's reading of danger is a second opinion, not an echo)."""
    tags = list(reading.signals.hits)
    facts = reading.facts
    if facts.stars:
        tags.append("f:stars")
    if facts.has_task_ref:
        tags.append("f:task")
    if facts.score_number is not None:
        tags.append("f:score")
    if facts.has_category and "plea" in reading.signals.hits:
        tags.append("f:asks")  # a plea about a need: the rules' own sign of a request
    return tags
