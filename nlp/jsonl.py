"""The `jinlin parse` contract: JSON lines of messages in, JSON lines of parses out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from nlp.parser import Parser

# Asia/Shanghai has kept UTC+8 without daylight saving since 1991; a fixed offset needs no
# tz database on the host.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def parse_now(value: str | None) -> datetime:
    """The --now value as a naive local datetime, or the current Asia/Shanghai wall-clock time."""
    if value is None:
        return datetime.now(SHANGHAI).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--now must be a local time like 2026-11-23T09:00, not {value!r}"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI).replace(tzinfo=None)
    return moment


def parse_lines(lines: Iterable[str], parser: Parser, now: datetime) -> Iterator[str]:
    """One output JSON line per non-blank input line: the parse, or an error for that line."""
    for line in lines:
        if not line.strip():
            continue
        yield json.dumps(_parse_line(line, parser, now), ensure_ascii=False)


def _parse_line(line: str, parser: Parser, now: datetime) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not valid JSON: {exc.msg} (column {exc.colno})"}
    if not isinstance(record, dict):
        return {"id": None, "error": "expected a JSON object with id and text"}
    ident = record.get("id")
    text = record.get("text")
    if not isinstance(text, str):
        return {"id": ident, "error": 'missing or non-string "text"'}
    return {"id": ident, **parser.parse(text, now).to_contract()}
