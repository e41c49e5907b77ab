"""The `jinlin parse` line contract and the --now helper."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from nlp import Parser
from nlp.jsonl import parse_lines, parse_now
from tests.nlp.conftest import NOW


def run(parser: Parser, *lines: str) -> list[dict[str, object]]:
    return [json.loads(out) for out in parse_lines(lines, parser, NOW)]


def test_one_output_per_line_in_order(parser: Parser) -> None:
    out = run(
        parser,
        '{"id": "a1", "text": "明天下午三点谁能陪我妈去医院"}\n',
        '{"id": 2, "text": "你好"}',
    )
    assert [o["id"] for o in out] == ["a1", 2]
    assert out[0] == {
        "id": "a1",
        "intent": "request_help",
        "category": "medical",
        "urgency": "normal",
        "when": "2026-11-24T15:00",
        "where": None,
        "phone": None,
        "score": None,
        "task_ref": None,
    }
    assert out[1]["intent"] == "greeting"


def test_output_keeps_chinese_readable(parser: Parser) -> None:
    line = next(parse_lines(['{"id": "中1", "text": "你好"}'], parser, NOW))
    assert '"中1"' in line


def test_blank_lines_are_skipped(parser: Parser) -> None:
    assert run(parser, "", "   \n", '{"id": "x", "text": "谢谢"}') == [
        {
            "id": "x",
            "intent": "thanks",
            "category": None,
            "urgency": None,
            "when": None,
            "where": None,
            "phone": None,
            "score": None,
            "task_ref": None,
        }
    ]


@pytest.mark.parametrize(
    ("line", "ident"),
    [
        ("{not json", None),
        ('["a", "list"]', None),
        ('{"id": "b7"}', "b7"),
        ('{"id": "b8", "text": 42}', "b8"),
        ('{"id": "b9", "text": null}', "b9"),
    ],
)
def test_bad_lines_give_an_error_and_the_run_goes_on(
    parser: Parser, line: str, ident: str | None
) -> None:
    out = run(parser, line, '{"id": "ok", "text": "谢谢"}')
    assert out[0]["id"] == ident
    assert isinstance(out[0]["error"], str) and "\n" not in out[0]["error"]
    assert set(out[0]) == {"id", "error"}
    assert out[1]["intent"] == "thanks"


@pytest.mark.parametrize(
    "value", ["2026-11-23T09:00", "2026-11-23 09:00", "2026-11-23T09:00:00", " 2026-11-23T09:00 "]
)
def test_parse_now_accepts_local_times(value: str) -> None:
    assert parse_now(value) == NOW


def test_parse_now_converts_an_offset_to_shanghai() -> None:
    assert parse_now("2026-11-23T01:00+00:00") == NOW


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01T09:00", "", "09:00"])
def test_parse_now_rejects_bad_values(value: str) -> None:
    with pytest.raises(ValueError, match="--now"):
        parse_now(value)


def test_parse_now_defaults_to_shanghai_wall_clock() -> None:
    shanghai = datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None)
    got = parse_now(None)
    assert got.tzinfo is None
    assert abs((got - shanghai).total_seconds()) < 5
