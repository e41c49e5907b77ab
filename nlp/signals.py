"""Which cue groups a message hits: by whole segmented words and by pattern."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nlp.leads import AnchorIndex, guarded, required_literal
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
        # a fast scan (the rest are guarded to the same effect), whereas an alternation of
        # them would be tried at every position. And a pattern none of whose anchor characters
        # occur in a message is not run on it at all (nlp.leads.anchor_chars: its lead
        # characters, or a rarer set every match passes through): `_anchored` finds the
        # patterns anchored by a message's characters, numbered in tag order so that running
        # them in number order keeps each tag's hits in order. Each also keeps a run of
        # characters all its matches hold (号单, 志愿, 有空; "" if none): a cheap `in` test
        # on the message rules out most candidates before their search.
        raw = [(tag, p) for tag, found in self._lists.items() for p in found]
        self._patterns = [(tag, guarded(p), required_literal(p)) for tag, p in raw]
        self._anchored = AnchorIndex(pattern for _, pattern in raw)

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
        # Every pattern that can match is run now: nearly every tag is asked about in a
        # parse, and plain dict lookups afterwards cost less than deciding lazily each time.
        patterns = self._patterns
        for number in self._anchored.candidates(text):
            tag, pattern, required = patterns[number]
            # Most candidates do not match, and search() costs a third of a finditer().
            if required in text and pattern.search(text):
                found = hits.setdefault(tag, [])
                found.extend((match.start(), match.group()) for match in pattern.finditer(text))
        return Signals(text, hits)


class Signals:
    """Cue hits of one message: words first, then pattern matches, per tag."""

    __slots__ = ("hits", "text")

    def __init__(self, text: str, hits: dict[str, list[tuple[int, str]]]) -> None:
        self.text = text
        self.hits = hits

    def has(self, tag: str) -> bool:
        """Whether any word or pattern of the tag's cue group occurs."""
        return tag in self.hits

    def positions(self, tag: str) -> list[tuple[int, str]]:
        """(offset, matched text) for every hit of the tag, words first, then patterns."""
        return self.hits.get(tag, [])

    def pleads(self, start: int, end: int) -> bool:
        """Whether the clause (between spaces) holding text[start:end] has a plea (下午能不能来
        vs 晚上很黑)."""
        left = self.text.rfind(" ", 0, start) + 1
        right = self.text.find(" ", end)
        right = len(self.text) if right < 0 else right
        return any(left <= offset < right for offset, _ in self.positions("plea"))

    def words(self, tag: str) -> Iterator[str]:
        """The matched words of a tag, in text order."""
        for _, word in sorted(self.positions(tag)):
            yield word
