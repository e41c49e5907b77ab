"""Turning raw chat text into one canonical form before anything is matched."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Full-width ASCII (Ｕ+FF01..FF5E) and the ideographic space fold to their ASCII forms.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Anything that is not a word character or one of the few symbols slots rely on (9:45,
# 137-0596, #12) becomes a single space: emoji, punctuation, line breaks, repeated blanks.
_NOISE = re.compile(r"[^\w:#\-]+")
_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_STARS = frozenset("⭐★☆🌟")


def has_stars(text: str) -> bool:
    """Whether the raw text holds star emoji (a rating gesture, but never a score)."""
    return not _STARS.isdisjoint(text)


class Normalizer:
    """Full-width folding, traditional-to-simplified, lower case, typo fixes, noise to spaces."""

    def __init__(self, typos: Iterable[tuple[str, str]]) -> None:
        import opencc  # imported here so importing nlp stays cheap

        self._convert: Any = opencc.OpenCC("t2s").convert
        fixes = dict(typos)
        self._fixes = fixes
        # One pass over the text, longest slip first, instead of one scan per slip.
        ordered = sorted(fixes, key=len, reverse=True)
        self._slips = re.compile("|".join(re.escape(w) for w in ordered)) if fixes else None

    def __call__(self, text: str) -> str:
        """The canonical form of one message."""
        if _WIDE.search(text):
            text = text.translate(_FOLD)
        text = self._convert(text).lower()
        if self._slips:
            text = self._slips.sub(self._fix, text)
        return _NOISE.sub(" ", text).strip()

    def _fix(self, match: re.Match[str]) -> str:
        return self._fixes[match.group()]
