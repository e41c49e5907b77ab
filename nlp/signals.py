"""Which cue groups a message hits: by whole segmented words, and lazily by pattern."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nlp.leads import lead_chars
from nlp.lexicon import CueSet, Lexicon


class CueIndex:
    """Every cue word of the lexicon mapped to the tags it carries, plus the cue patterns."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.words: dict[str, list[str]] = {}
        self._lists: dict[str, list[re.Pattern[str]]] = {}
        for name, cues in lexicon.cues.items():
            self._add(name, cues)
        for name, cues in lexicon.intents.items():
            self._add(f"i:{name}", cues, soft=f"s:{name}")
        for name, cues in lexicon.categories.items():
            self._add(f"c:{name}", cues)
            self._add_words(f"p:{name}", cues.people)
        for name, cues in lexicon.urgency.items():
            self._add(f"u:{name}", cues)
        self._add_words("score", lexicon.scores)
        # Patterns stay separate: most start with a literal, which the regex engine finds with
        # a fast scan, whereas an alternation of them would be tried at every position.
        # Each comes with the characters its match can start with: a pattern whose lead
        # characters are all absent from a message is not run on it at all.
        self.patterns: dict[str, tuple[tuple[re.Pattern[str], frozenset[str] | None], ...]] = {
            tag: tuple((p, lead_chars(p)) for p in found)
            for tag, found in self._lists.items()
            if found
        }

    def _add(self, tag: str, cues: CueSet, soft: str | None = None) -> None:
        self._add_words(tag, cues.words)
        self._lists.setdefault(tag, []).extend(cues.patterns)
        if soft:
            self._add_words(soft, cues.soft_words)
            self._lists.setdefault(soft, []).extend(cues.soft_patterns)

    def _add_words(self, tag: str, words: object) -> None:
        for word in words:  # type: ignore[attr-defined]
            tags = self.words.setdefault(word, [])
            if tag not in tags:
                tags.append(tag)

    def scan(self, text: str, tokens: list[str]) -> Signals:
        """The signals of one normalised message and its tokens."""
        hits: dict[str, list[tuple[int, str]]] = {}
        offset = 0
        lookup = self.words.get
        for token in tokens:
            tags = lookup(token)
            if tags:
                for tag in tags:
                    hits.setdefault(tag, []).append((offset, token))
            offset += len(token)
        return Signals(text, hits, self)


class Signals:
    """Cue hits of one message; pattern cues are only evaluated when first asked about."""

    __slots__ = ("_chars", "_done", "_patterns", "hits", "text")

    def __init__(self, text: str, hits: dict[str, list[tuple[int, str]]], index: CueIndex) -> None:
        self.text = text
        self.hits = hits
        self._patterns = index.patterns  # only tags that have patterns
        self._done: set[str] = set()
        self._chars: frozenset[str] | None = None

    def has(self, tag: str) -> bool:
        """Whether any word or pattern of the tag's cue group occurs."""
        if tag in self.hits:
            return True
        if tag not in self._patterns or tag in self._done:
            return False
        return bool(self.positions(tag))

    def positions(self, tag: str) -> list[tuple[int, str]]:
        """(offset, matched text) for every hit of the tag, words first, then patterns."""
        if tag in self._patterns and tag not in self._done:
            self._done.add(tag)
            if self._chars is None:
                self._chars = frozenset(self.text)
            for pattern, lead in self._patterns[tag]:
                if lead is not None and lead.isdisjoint(self._chars):
                    continue
                for match in pattern.finditer(self.text):
                    self.hits.setdefault(tag, []).append((match.start(), match.group()))
        return self.hits.get(tag, [])

    def words(self, tag: str) -> Iterator[str]:
        """The matched words of a tag, in text order."""
        for _, word in sorted(self.positions(tag)):
            yield word
