"""Loading the keyword lexicon (lexicon.toml plus an optional extra file of the same shape)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_LEXICON = Path(__file__).with_name("lexicon.toml")


@dataclass(frozen=True)
class CueSet:
    """Cue words and patterns for one intent, category or shared signal."""

    words: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    soft_words: tuple[str, ...] = ()
    soft_patterns: tuple[re.Pattern[str], ...] = ()
    people: tuple[str, ...] = ()

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> CueSet:
        """Build a cue set from a TOML table with the lists named in the lexicon header."""
        return cls(
            words=tuple(table.get("words", ())),
            patterns=tuple(re.compile(p) for p in table.get("patterns", ())),
            soft_words=tuple(table.get("soft_words", ())),
            soft_patterns=tuple(re.compile(p) for p in table.get("soft_patterns", ())),
            people=tuple(table.get("people", ())),
        )


@dataclass(frozen=True)
class Lexicon:
    """Every word table the parser reads, merged from the default and extra lexicon files."""

    raw: dict[str, Any]
    segment_words: tuple[str, ...]
    typos: tuple[tuple[str, str], ...]
    cues: dict[str, CueSet]
    intent_order: tuple[str, ...]
    intents: dict[str, CueSet]
    category_order: tuple[str, ...]
    categories: dict[str, CueSet]
    urgency: dict[str, CueSet]
    scores: dict[str, int]
    time: dict[str, Any] = field(default_factory=dict)
    address: dict[str, Any] = field(default_factory=dict)
    beneficiary: dict[str, Any] = field(default_factory=dict)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Merge an extra lexicon into a base one: lists are appended, tables merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            out[key] = old + [v for v in value if v not in old]
        else:
            out[key] = value
    return out


def load_lexicon(extra: Path | None = None) -> Lexicon:
    """Read lexicon.toml and, if given, an extra file of the same shape appended to it."""
    with DEFAULT_LEXICON.open("rb") as fh:
        raw = tomllib.load(fh)
    if extra is not None:
        with Path(extra).open("rb") as fh:
            raw = merge(raw, tomllib.load(fh))
    return build(raw)


def build(raw: dict[str, Any]) -> Lexicon:
    """Turn a parsed (and merged) lexicon document into a Lexicon."""
    intents = {k: CueSet.from_table(v) for k, v in raw["intent"].items() if isinstance(v, dict)}
    categories = {
        k: CueSet.from_table(v) for k, v in raw["category"].items() if isinstance(v, dict)
    }
    urg = raw["urgency"]

    def cues(words: str, patterns: str | None = None) -> CueSet:
        return CueSet.from_table({"words": urg.get(words, []), "patterns": urg.get(patterns, [])})

    urgency = {
        "urgent": cues("urgent", "urgent_patterns"),
        "calm": cues("calm", "calm_patterns"),
    }
    # Longest first, so 水管暴 is fixed before a shorter entry could split it.
    typos = tuple(sorted(raw.get("typos", {}).items(), key=lambda kv: -len(kv[0])))
    return Lexicon(
        raw=raw,
        segment_words=tuple(raw.get("segment", {}).get("words", ())),
        typos=typos,
        cues={k: CueSet.from_table(v) for k, v in raw.get("cues", {}).items()},
        intent_order=tuple(raw["intent"]["order"]),
        intents=intents,
        category_order=tuple(raw["category"]["order"]),
        categories=categories,
        urgency=urgency,
        scores={k: int(v) for k, v in raw.get("score", {}).items()},
        time=raw.get("time", {}),
        address=raw.get("address", {}),
        beneficiary=raw.get("beneficiary", {}),
    )
