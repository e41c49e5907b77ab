"""Finding any of some hundreds of literal phrases in a message, longest first.

One regular expression alternating every phrase is slow in Python's engine: at each
position where some phrase could start it tries every alternative in turn. Here one
character class finds those positions, and only the phrases starting with that position's
character are tried, as one small pattern. Latin phrases (pinyin, English) match whole
words only, so "help" never fires inside "helpful".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_LATIN = re.compile("[a-z0-9]")


def word_alternation(keys: Iterable[str]) -> re.Pattern[str]:
    """One pattern for every key, longest first; Latin keys match whole words only.

    A word boundary is checked after a Latin key's first letter (f(?<![a-z0-9]f)ire), so
    every branch still opens with a literal the regex engine rejects at a glance.
    """
    branches = []
    for key in sorted(keys, key=lambda k: (-len(k), k)):
        branch = re.escape(key)
        if _LATIN.match(key[0]):
            first = re.escape(key[0])
            branch = f"{first}(?<![a-z0-9]{first}){re.escape(key[1:])}"
        if _LATIN.match(key[-1]):
            branch += "(?![a-z0-9])"
        branches.append(branch)
    return re.compile("|".join(branches))


class Phrases:
    """A set of literal phrases, found left to right without overlaps, longest first."""

    def __init__(self, phrases: Iterable[str]) -> None:
        by_first: dict[str, list[str]] = {}
        for phrase in phrases:
            if phrase:
                by_first.setdefault(phrase[0], []).append(phrase)
        self._at = {ch: word_alternation(group) for ch, group in by_first.items()}
        members = "".join(re.escape(ch) for ch in sorted(by_first))
        self._starts = re.compile(f"[{members}]") if members else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """Every phrase in the text, as matches, left to right without overlapping."""
        if self._starts is None:
            return
        at = self._at
        end = 0
        for candidate in self._starts.finditer(text):
            i = candidate.start()
            if i < end:
                continue  # inside the phrase just found
            found = at[text[i]].match(text, i)
            if found:
                yield found
                end = found.end()

    def search(self, text: str) -> re.Match[str] | None:
        """The first phrase in the text, or None."""
        return next(self.finditer(text), None)

    def sub(self, replacement: dict[str, str], text: str) -> str:
        """The text with each phrase found replaced by its value in `replacement`."""
        parts: list[str] = []
        done = 0
        for found in self.finditer(text):
            parts += (text[done : found.start()], replacement[found.group()])
            done = found.end()
        if not parts:
            return text
        parts.append(text[done:])
        return "".join(parts)
