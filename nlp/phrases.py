"""Finding any of some hundreds of literal phrases in a message, longest first.

The phrases are compiled into one regular expression shaped like a trie (煤气(?:味道?|泄漏)),
so the regex engine walks the text in C: it skips a position whose character starts no
phrase with one set lookup, and at a position where some phrase could start it follows the
trie one character at a time instead of trying every phrase in turn (in the old design,
a Python loop over those positions cost more than all the matching). Each node tries its
longer continuations before it settles for the phrase that ends there, so the match at a
position is its longest phrase, and matches never overlap. Latin phrases (pinyin, English)
match whole words only, so "help" never fires inside "helpful".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_LATIN = re.compile("[a-z0-9]")
# Where a Latin phrase starts and ends: no letter or digit may touch it.
_OPEN, _CLOSE = "(?<![a-z0-9])", "(?![a-z0-9])"
# First characters per bucket of the top-level alternation (fastest in measurements on the
# shipped messages, for the variant and danger tables alike).
_BUCKET = 40
# A trie node: child character -> node; the key "" marks a phrase ending here.
_Node = dict[str, "_Node"]


def word_alternation(keys: Iterable[str]) -> re.Pattern[str]:
    """One pattern for every key, its longest key at any position; Latin keys whole words."""
    return re.compile(_trie_pattern(keys))


def _trie_pattern(keys: Iterable[str]) -> str:
    root: _Node = {}
    for key in keys:
        if key:
            node = root
            for ch in key:
                node = node.setdefault(ch, {})
            node[""] = {}
    latin = {ch: node for ch, node in root.items() if _LATIN.match(ch)}
    other = sorted((ch, node) for ch, node in root.items() if not _LATIN.match(ch))
    # The engine tries a group's alternatives one by one; hundreds of first characters in
    # one group would be hundreds of tries at every candidate position. In buckets, a look-
    # ahead for a bucket's characters rules most of them out at once.
    branches = []
    for start in range(0, len(other), _BUCKET):
        bucket = other[start : start + _BUCKET]
        inner = "|".join(_node_pattern(ch, node) for ch, node in bucket)
        if len(other) <= _BUCKET:
            branches.append(inner)
        else:
            chars = "".join(re.escape(ch) for ch, _ in bucket)
            branches.append(f"(?=[{chars}])(?:{inner})")
    if latin:
        inner = "|".join(_node_pattern(ch, node) for ch, node in sorted(latin.items()))
        branches.append(f"{_OPEN}(?:{inner})")
    if not branches:
        return "(?!)"
    # A look-ahead for the first characters lets the engine reject every other position
    # with one set lookup (the Latin branch's look-behind would otherwise hide them).
    firsts = "".join(re.escape(ch) for ch in sorted(root))
    return f"(?=[{firsts}])(?:{'|'.join(branches)})"


def _node_pattern(ch: str, node: _Node) -> str:
    """The pattern of the phrases through `ch` and then `node`: ch, then the longest way on."""
    here = re.escape(ch)
    ends = "" in node
    # A Latin phrase that ends here must end a word too.
    end = _CLOSE if _LATIN.match(ch) else ""
    children = [(c, n) for c, n in sorted(node.items()) if c]
    if not children:
        return here + end
    if len(children) == 1:
        rest = _node_pattern(*children[0])
    else:
        rest = "(?:" + "|".join(_node_pattern(c, n) for c, n in children) + ")"
    if not ends:
        return here + rest
    # Longer phrases first: the phrase ending here only when none of them matches on.
    return f"{here}(?:{rest}|{end})" if end else f"{here}(?:{rest})?"


class Phrases:
    """A set of literal phrases, found left to right without overlaps, longest first."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._pattern = word_alternation(phrases)

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        """Every phrase in the text from `pos` on, as matches, left to right without
        overlapping."""
        return self._pattern.finditer(text, pos)

    def search(self, text: str) -> re.Match[str] | None:
        """The first phrase in the text, or None."""
        return self._pattern.search(text)

    def sub(self, replacement: dict[str, str], text: str) -> str:
        """The text with each phrase found replaced by its value in `replacement`."""
        return self._pattern.sub(lambda found: replacement[found.group()], text)
