"""Which characters a regular expression's match can start with, to skip hopeless searches."""

from __future__ import annotations

import re
from typing import Any

try:  # the regex engine's own parser; if a Python release moves it, every pattern just runs
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    _sre_parse = None

# A class with more characters than this is not worth checking against a message.
_MAX_CLASS = 64


def lead_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Every character a match must start with, or None when that cannot be told."""
    if _sre_parse is None or pattern.flags & re.IGNORECASE:
        return None
    try:
        first = _first(list(_sre_parse.parse(pattern.pattern)))
    except Exception:  # any surprise in a private parser means "always run"
        return None
    return frozenset(first) if first else None


def _first(items: list[tuple[Any, Any]]) -> set[str] | None:
    """Lead characters of a parsed sequence; None if unknown or if it can match empty."""
    out: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name in ("ASSERT", "ASSERT_NOT", "AT"):
            continue  # zero-width: the match starts with what follows
        if name == "LITERAL":
            return out | {chr(arg)}
        if name == "IN":
            chars = _class(arg)
            return None if chars is None else out | chars
        if name == "SUBPATTERN":
            inner = _first(list(arg[-1]))
            return None if inner is None else out | inner
        if name == "BRANCH":
            for branch in arg[1]:
                inner = _first(list(branch))
                if inner is None:
                    return None
                out |= inner
            return out
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, body = arg
            inner = _first(list(body))
            if inner is None:
                return None
            out |= inner
            if low > 0:
                return out
            continue  # optional: the match may also start with what follows
        return None
    return None


def _class(members: list[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, arg in members:
        name = str(op)
        if name == "LITERAL":
            chars.add(chr(arg))
        elif name == "RANGE" and arg[1] - arg[0] < _MAX_CLASS:
            chars.update(chr(code) for code in range(arg[0], arg[1] + 1))
        else:
            return None
    return chars
