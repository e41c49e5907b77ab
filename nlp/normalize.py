"""Turning raw chat text into one canonical form before anything is matched."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from nlp.phrases import Phrases

VARIANTS = Path(__file__).with_name("variants.toml")

# Full-width ASCII (Ｕ+FF01..FF5E) and the ideographic space fold to their ASCII forms.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Anything that is not a word character or one of the few symbols slots rely on (9:45,
# 137-0596, #12) becomes a single space: emoji, punctuation, line breaks, repeated blanks.
_NOISE = re.compile(r"[^\w:#\-]+")
_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_STARS = re.compile("[⭐★☆🌟]")
# Characters OpenCC's t2s changes only inside a phrase (土坏 -> 土坯, 藉口 -> 借口, 沈默 -> 沉默,
# 瞭解 -> 了解), which converting characters one at a time cannot reveal. From OpenCC 1.4's
# TSPhrases; test_nlp_normalize checks them against the installed dictionaries.
_PHRASE_ONLY = "哩坏沈甦瞭藉衹覆"
# OpenCC also knows rare ideographs of planes 2 and 3; a message with any is always converted.
_RARE_PLANES = "\U00020000-\U0003ffff"
_HAN = re.compile("[\u4e00-\u9fff]")
# A space between two characters of a message typed in pinyin only separated syllables.
_SYLLABLE_SPACE = re.compile("(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")


def has_stars(text: str) -> bool:
    """Whether the raw text holds star emoji (a rating gesture, but never a score)."""
    return _STARS.search(text) is not None


def load_variants(path: Path = VARIANTS) -> dict[str, str]:
    """Every table of variants.toml merged into one: written form -> Mandarin."""
    with path.open("rb") as fh:
        tables = tomllib.load(fh)
    merged: dict[str, str] = {}
    for table in tables.values():
        merged.update(table)
    return merged


class Normalizer:
    """Full-width folding, traditional-to-simplified, lower case, noise to spaces, then
    dialect, regional, homophone and typo forms to Mandarin (nlp/variants.toml)."""

    def __init__(self, fixes: Iterable[tuple[str, str]]) -> None:
        import opencc  # imported here so importing nlp stays cheap

        self._convert: Any = opencc.OpenCC("t2s").convert
        # Most messages are written in simplified characters already, and a search for the
        # characters t2s can change costs a tenth of the conversion itself.
        self._convertible = convertible(self._convert)
        self._fixes = self._canonical_keys(fixes)
        self._slips = Phrases(self._fixes)

    def _canonical_keys(self, fixes: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Keys as a message looks when they are compared: converted, folded, lower case."""
        pairs = list(fixes)
        keys = [key.translate(_FOLD) for key, _ in pairs]
        # One conversion call for every key at once (a newline never occurs in a key).
        converted = self._convert("\n".join(keys)).split("\n")
        if len(converted) != len(keys):  # pragma: no cover - a converter that joins lines
            converted = [self._convert(key) for key in keys]
        out: dict[str, str] = {}
        for key, (_, value) in zip(converted, pairs, strict=True):
            key = _NOISE.sub(" ", key.lower()).strip()
            if key:
                out[key] = value
        return out

    def __call__(self, text: str) -> str:
        """The canonical form of one message."""
        if _WIDE.search(text):
            text = text.translate(_FOLD)
        if self._convertible.search(text):
            text = self._convert(text)
        text = _NOISE.sub(" ", text.lower())
        if _HAN.search(text):
            return self._slips.sub(self._fixes, text).strip()
        # Typed in pinyin (or English): its spaces part syllables, not clauses, so words read
        # from them stand together as the same words in characters would (两天没人应).
        return _SYLLABLE_SPACE.sub("", self._slips.sub(self._fixes, text)).strip()


def convertible(convert: Callable[[str], str]) -> re.Pattern[str]:
    """A class of the characters without which `convert` leaves a text as it is.

    Every basic-plane character is converted on its own, in one call at start-up (some 20
    ms); to those it changes come the phrase-only characters and the rare ideograph planes.
    """
    chars = [chr(code) for code in range(0x10000) if not 0xD800 <= code < 0xE000]
    chars.remove("\n")  # the separator
    converted = convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - a converter that joins lines
        return re.compile(".", re.DOTALL)  # then every message is converted
    pairs = zip(chars, converted, strict=True)
    changed = {old for old, new in pairs if old != new} | set(_PHRASE_ONLY)
    members = "".join(re.escape(ch) for ch in sorted(changed))
    return re.compile(f"[{members}{_RARE_PLANES}]")
