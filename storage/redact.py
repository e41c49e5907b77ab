"""Masking of personal data before it reaches a log line."""

from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


def mask(openid: str | None) -> str:
    """An openid shortened so logs can correlate without holding the whole id."""
    if not openid:
        return "-"
    return openid[:4] + "…" + openid[-4:] if len(openid) > 10 else openid


def mask_phones(text: str) -> str:
    """Every mainland mobile number in `text` with its middle digits hidden."""
    return _PHONE.sub(lambda m: f"{m[1]}****{m[3]}", text)
