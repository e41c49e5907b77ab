"""Which cue groups a message hits: by whole segmented words, and lazily by pattern."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nlp.lexicon import CueSet, Lexicon


class CueIndex:
    """Every cue word of the lexicon mapped to the tags it carries, plus the cue patterns."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.words: dict[str, list[str]] = {}
        self.patterns: dict[str, list[re.Pattern[str]]] = {}
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
        # One alternation per tag: a message is scanned once per cue group, not once per pattern.
        self.patterns = {
            tag: [re.compile("|".join(f"(?:{p.pattern})" for p in found))]
            for tag, found in self.patterns.items()
            if found
        }

    def _add(self, tag: str, cues: CueSet, soft: str | None = None) -> None:
        self._add_words(tag, cues.words)
        self.patterns.setdefault(tag, []).extend(cues.patterns)
        if soft:
            self._add_words(soft, cues.soft_words)
            self.patterns.setdefault(soft, []).extend(cues.soft_patterns)

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
        return Signals(text, hits, self.patterns)


class Signals:
    """Cue hits of one message; pattern cues are only evaluated when first asked about."""

    __slots__ = ("_done", "_patterns", "hits", "text")

    def __init__(
        self,
        text: str,
        hits: dict[str, list[tuple[int, str]]],
        patterns: dict[str, list[re.Pattern[str]]],
    ) -> None:
        self.text = text
        self.hits = hits
        self._patterns = patterns  # only tags that have patterns, so most `has` are one lookup
        self._done: set[str] = set()

    def has(self, tag: str) -> bool:
        """Whether any word or pattern of the tag's cue group occurs."""
        if tag in self.hits:
            return True
        return tag in self._patterns and bool(self.positions(tag))

    def positions(self, tag: str) -> list[tuple[int, str]]:
        """(offset, matched text) for every hit of the tag, words first, then patterns."""
        if tag in self._patterns and tag not in self._done:
            self._done.add(tag)
            for pattern in self._patterns[tag]:
                for match in pattern.finditer(self.text):
                    self.hits.setdefault(tag, []).append((match.start(), match.group()))
        return self.hits.get(tag, [])

    def words(self, tag: str) -> Iterator[str]:
        """The matched words of a tag, in text order."""
        for _, word in sorted(self.positions(tag)):
            yield word
