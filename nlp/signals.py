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
        # a fast scan, whereas an alternation of them would be tried at every position. And
        # a pattern none of whose lead characters occur in a message is not run on it at all:
        # `by_lead` maps a character to the patterns that can start with it.
        self.patterns: dict[str, tuple[re.Pattern[str], ...]] = {
            tag: tuple(found) for tag, found in self._lists.items() if found
        }
        self.by_lead: dict[str, list[tuple[str, int]]] = {}
        self.always: list[tuple[str, int]] = []
        for tag, found in self.patterns.items():
            for i, pattern in enumerate(found):
                lead = lead_chars(pattern)
                if lead is None:
                    self.always.append((tag, i))
                for ch in lead or ():
                    self.by_lead.setdefault(ch, []).append((tag, i))

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

    __slots__ = ("_candidates", "_done", "_index", "hits", "text")

    def __init__(self, text: str, hits: dict[str, list[tuple[int, str]]], index: CueIndex) -> None:
        self.text = text
        self.hits = hits
        self._index = index
        self._done: set[str] = set()
        self._candidates: dict[str, list[int]] | None = None

    def has(self, tag: str) -> bool:
        """Whether any word or pattern of the tag's cue group occurs."""
        if tag in self.hits:
            return True
        if tag in self._done or tag not in self._index.patterns:
            return False
        return bool(self.positions(tag))

    def positions(self, tag: str) -> list[tuple[int, str]]:
        """(offset, matched text) for every hit of the tag, words first, then patterns."""
        if tag not in self._done and tag in self._index.patterns:
            self._done.add(tag)
            if self._candidates is None:
                self._candidates = self._gather()
            patterns = self._index.patterns[tag]
            for i in self._candidates.get(tag, ()):
                for match in patterns[i].finditer(self.text):
                    self.hits.setdefault(tag, []).append((match.start(), match.group()))
        return self.hits.get(tag, [])

    def _gather(self) -> dict[str, list[int]]:
        """tag -> indexes of its patterns that could match, from the message's characters."""
        found: dict[str, set[int]] = {}
        by_lead = self._index.by_lead
        for ch in set(self.text):
            for tag, i in by_lead.get(ch, ()):
                found.setdefault(tag, set()).add(i)
        for tag, i in self._index.always:
            found.setdefault(tag, set()).add(i)
        return {tag: sorted(indexes) for tag, indexes in found.items()}

    def words(self, tag: str) -> Iterator[str]:
        """The matched words of a tag, in text order."""
        for _, word in sorted(self.positions(tag)):
            yield word
