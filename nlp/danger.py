"""The danger detector: does a message say a life or a home is at risk right now?

Separate from the learned scorer and deliberately eager (see nlp/danger.toml): an
emergency it misses waits for a volunteer, an emergency it invents costs a phone call.
It reads the normalised message, so dialect, English and voice-typing forms have
already become Mandarin.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.leads import AnchorIndex, required_literal
from nlp.phrases import Phrases

DEFAULT_TABLE = Path(__file__).with_name("danger.toml")
# How far before a sign a worry or past word (万一, 昨天) still counts, within its clause.
_WORRY_REACH = 12


@dataclass(frozen=True, slots=True)
class Danger:
    """The signs of danger found, their category, and whether the danger is now."""

    signs: tuple[str, ...]
    # None for a bare cry for help (救命), which names no kind of danger.
    category: str | None
    now: bool
    # The danger is over or handled (找到了, 火灭了): a report of that is cancel_request.
    over: bool


@dataclass(frozen=True, slots=True)
class _Sign:
    name: str
    category: str
    needs: tuple[str, ...]
    unless: tuple[str, ...]


class DangerDetector:
    """Finds signs of danger (symptoms, hazards, people trapped, missing or silent)."""

    def __init__(self, table: dict[str, Any], category_order: Iterable[str]) -> None:
        guards = table["guards"]
        rank = {name: n for n, name in enumerate(category_order)}
        self._signs: dict[str, _Sign] = {}
        word_sign: dict[str, str] = {}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for name, group in table["signs"].items():
            unless = tuple(guards[group["unless"]]) if "unless" in group else ()
            self._signs[name] = _Sign(
                name, group["category"], tuple(group.get("needs", ())), unless
            )
            for word in group.get("words", ()):
                word_sign.setdefault(word, name)
            self._patterns += [(re.compile(p), name) for p in group.get("patterns", ())]
        self._word_sign = word_sign
        self._words = Phrases(word_sign)
        # A pattern runs only on a message holding one of its anchor characters (those its
        # matches start with, or a rarer set they all pass through; nlp.leads) and the run
        # of characters all its matches hold, if it has one: anchor -> pattern numbers.
        self._required = [required_literal(pattern) for pattern, _ in self._patterns]
        self._anchored = AnchorIndex(pattern for pattern, _ in self._patterns)
        self._rank = rank
        self._worry = tuple(guards["worry"])
        self._negations = tuple(guards["negation"])
        # 不见好转 and 还没缓过来 deny a recovery as 没有 denies a sign.
        self._not_recovered = (*self._negations, "不见")
        self._over = Phrases(guards["over"])
        self._recovered = Phrases(guards["recovered"])
        self._past = tuple(guards["past"])
        self._chronic = Phrases(guards["chronic"])
        self._again = Phrases(guards["again"])
        self._still = Phrases(guards["still"])
        self._drill = Phrases(guards["drill"])

    @classmethod
    def load(cls, category_order: Iterable[str], path: Path = DEFAULT_TABLE) -> DangerDetector:
        """The detector over a danger table (the shipped one by default)."""
        with path.open("rb") as fh:
            return cls(tomllib.load(fh), category_order)

    def read(self, text: str) -> Danger | None:
        """The danger a normalised message reports, or None when it reports none."""
        hits = [(m.start(), self._word_sign[m.group()]) for m in self._words.finditer(text)]
        for number in self._anchored.candidates(text):
            if self._required[number] not in text:
                continue
            pattern, name = self._patterns[number]
            match = pattern.search(text)
            if match:
                hits.append((match.start(), name))
        if not hits:
            if self._recovered_after(text, -1):
                # Words of a danger that is over, with no sign: no danger now, and the
                # scorer is not to find one in the same words either.
                return Danger((), None, now=False, over=True)
            return None
        names: list[str] = []
        doubted: list[str] = []
        for offset, name in sorted(hits):
            sign = self._signs[name]
            if name in names:
                continue
            if (
                self._worried(text, offset)
                or (sign.needs and not any(word in text for word in sign.needs))
                or (sign.unless and any(word in text for word in sign.unless))
            ):
                doubted.append(name)
                continue
            names.append(name)
        if not names:
            # Only worries, negations and harmless look-alikes (差点着火, 点不着火): no danger,
            # and the scorer is not to find one in the same words either.
            return Danger(tuple(dict.fromkeys(doubted)), None, now=False, over=False)
        last = max(offset for offset, name in hits if name in names)
        over = self._over.search(text) is not None or self._recovered_after(text, last)
        still = self._still.search(text) is not None
        past = (
            not still and all(self._before(text, offset, self._past) for offset, _ in hits)
        ) or (self._chronic.search(text) is not None and self._again.search(text) is None)
        drill = self._drill.search(text) is not None
        found = [self._signs[n].category for n in names if self._signs[n].category]
        category = min(found, key=self._rank.__getitem__) if found else None
        return Danger(tuple(names), category, not (over or past or drill), over)

    def _recovered_after(self, text: str, offset: int) -> bool:
        """Whether words saying the danger is over now (现在好了, 缓过来了) come after the
        offset, not negated right before (还没缓过来, 不见好转)."""
        return any(
            not text[: m.start()].endswith(self._not_recovered)
            for m in self._recovered.finditer(text, offset + 1)
        )

    def _worried(self, text: str, offset: int) -> bool:
        """Whether a worry word (万一, 怕) comes shortly before the offset in its clause, or
        a negation (点不着火, 没有燃气味) right before it."""
        before = self._clause_before(text, offset)
        # 是不是漏气了 asks whether it leaks: a question is no denial.
        denied = before.endswith(self._negations) and not before.endswith("是不是")
        return denied or any(word in before for word in self._worry)

    def _before(self, text: str, offset: int, words: tuple[str, ...]) -> bool:
        """Whether one of the words comes shortly before the offset in its clause."""
        before = self._clause_before(text, offset)
        return any(word in before for word in words)

    @staticmethod
    def _clause_before(text: str, offset: int) -> str:
        start = max(text.rfind(" ", 0, offset) + 1, offset - _WORRY_REACH)
        return text[start:offset]
