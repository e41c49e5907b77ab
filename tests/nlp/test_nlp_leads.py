"""Lead characters of patterns, and guarded patterns that must match exactly as the plain ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nlp import Parser, slots, where
from nlp.leads import guarded, lead_chars, required_literal

HELDOUT = Path(__file__).with_name("heldout.jsonl")
EXTRA = [
    "",
    "3栋2单元501 电话138-1234-5678",
    "+8613812345678 0086 13812345678 8613812345678",
    "一三八一二三四五六七八 幺三八零零零零零零零零",
    "任务十二 任务#3 12号单 #12 接单 12 ＃7",
    "明天下午三点半 礼拜四 下下周一 12月3日 5号 九点一刻 9:45 十二点",
    "五星好评 3分 四颗星 5粒星 十分满意 三分钟 一星期",
    "١٢٣号单 ٣栋",  # other decimal digits are \d too
]


def test_lead_chars() -> None:
    assert lead_chars(re.compile("(想|要)当")) == frozenset("想要")
    assert lead_chars(re.compile(r"(?<!\d)120")) == frozenset("1")
    assert lead_chars(re.compile("[a-c]?x")) == frozenset("abcx")
    assert lead_chars(re.compile(r"\d号")) is None  # a category is no short list
    assert lead_chars(re.compile("a?")) is None  # can match empty


def test_guard_only_where_the_engine_does_not_scan() -> None:
    literal = re.compile("我(来|去)")
    assert guarded(literal) is literal
    words = re.compile("隔壁|住在")
    assert guarded(words) is words
    behind = re.compile(r"(?<![0-9])(1|一|\d)")
    assert guarded(behind).pattern == r"(?=[1\d一])(?:(?<![0-9])(1|一|\d))"


@pytest.fixture(scope="module")
def texts(parser: Parser) -> list[str]:
    rows = [json.loads(line)["text"] for line in HELDOUT.read_text("utf-8").splitlines() if line]
    raw = rows + EXTRA
    return raw + [parser._normalize(text) for text in raw]


def test_guarded_patterns_match_as_the_plain_ones(parser: Parser, texts: list[str]) -> None:
    checked = [
        parser._when._pattern,
        where._BUILDING,
        where._UNIT,
        where._ROOM_SUFFIX,
        slots._PHONE,
        slots._TASK,
        slots._SCORE,
        *(pattern for _, pattern, _ in parser._index._patterns),
    ]
    guarded_count = 0
    for pattern in checked:
        prefix = re.match(r"\(\?=\[[^]]*\]\)\(\?:", pattern.pattern)
        if not prefix:
            continue  # left unguarded
        # The pattern as written: what guarded() wrapped in (?=[...])(?:...).
        guarded_count += 1
        bare = re.compile(pattern.pattern[prefix.end() : -1])
        for text in texts:
            got = [(m.span(), m.groups()) for m in pattern.finditer(text)]
            want = [(m.span(), m.groups()) for m in bare.finditer(text)]
            assert got == want, (bare.pattern, text)
    assert guarded_count >= 8


def test_required_literal() -> None:
    assert required_literal(re.compile(r"\d\s*号单")) == "号单"
    assert required_literal(re.compile("我.{0,6}有空")) == "有空"
    assert required_literal(re.compile("我(来)?接")) == "接"  # the later of two
    assert required_literal(re.compile("(想|要)当")) == "当"
    assert required_literal(re.compile("(冰箱|空调)坏?")) == ""


def test_every_cue_match_holds_its_required_literal(parser: Parser, texts: list[str]) -> None:
    for _, pattern, required in parser._index._patterns:
        for text in texts:
            for match in pattern.finditer(text):
                assert required in match.group(), (pattern.pattern, text)
