"""Yes and no as people type them to a question asked before acting."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"[\s，。！!？?、,.~～…]+")

# Yes to "确定……吗？" before what cannot be undone (erasing one's data, calling off an
# emergency): plain agreement only, never 要 or 需要, which may begin a new need.
AGREE = frozenset(
    (
        "确认",
        "确定",
        "好的",
        "好",
        "好吧",
        "是的",
        "是",
        "对",
        "对的",
        "嗯",
        "嗯嗯",
        "可以",
        "行",
        "同意",
        "ok",
    )
)
# No, as residents type it: Mandarin, Cantonese, Minnan.
NO = (
    "不是", "不", "不要", "不用", "不用了", "不对", "没有", "否", "算了", "唔係", "唔系", "唔使",
    "唔要", "毋是", "呣是", "伓是", "毋着", "免", "no",
)  # fmt: skip


def word(text: str | None) -> str:
    """An answer as the word lists hold it: without spaces or punctuation, in lower case."""
    return _PUNCTUATION.sub("", text or "").lower()
