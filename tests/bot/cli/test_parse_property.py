"""`jinlin parse` on whatever a file holds: never a crash, one output line per input line."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.jsonl import parse_lines

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 23, 9, 0)
# Characters that end a line when a file is read as text.
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_CHARS = st.characters(exclude_characters=_BREAKS, codec="utf-8", exclude_categories=("Cs",))
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(_CHARS, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _message(ident: Any, text: Any) -> str:
    return json.dumps({"id": ident, "text": text}, ensure_ascii=False)


_LINES = st.one_of(
    st.builds(_message, _JSON_VALUES, st.text(_CHARS, max_size=120)),
    st.builds(_message, st.integers(), _JSON_VALUES),
    st.builds(json.dumps, _JSON_VALUES),
    st.text(_CHARS, max_size=60),
    # JSON may spell a lone surrogate, which no UTF-8 output can carry.
    st.sampled_from(['{"id": 1, "text": "\\ud800帮我"}', '{"id": "\\udfff", "text": "你好"}']),
    st.builds(lambda n: '{"id": 1, "text": "' + "帮" * n + '"}', st.integers(0, 3000)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_LINES, max_size=6))
def test_every_line_gets_one_json_line_back(parser: Any, lines: list[str]) -> None:
    out = list(parse_lines([line + "\n" for line in lines], parser, NOW))
    assert len(out) == len([line for line in lines if line.strip()])
    for line in out:
        # As `jinlin parse` writes it: a lone surrogate as its JSON escape.
        record = json.loads(line.encode("utf-8", "backslashreplace").decode("utf-8"))
        assert isinstance(record, dict) and "id" in record
        assert ("error" in record) != ("intent" in record)


def test_the_command_itself_survives_a_hostile_file(tmp_path: Path) -> None:
    lines = [
        '{"id": 1, "text": "明天下午三点谁能陪我妈去医院"}',
        '{"id": 2, "text": "\\ud800帮我买菜"}',
        "not json at all",
        "",
        '{"id": {"a": [1]}, "text": 5}',
        '{"id": 3, "text": "' + "修" * 5000 + '"}',
        "[1, 2]",
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "parse", "--now", "2026-11-23T09:00", str(path)],
        capture_output=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = done.stdout.decode("utf-8").splitlines()
    assert len(out) == 6
    assert [json.loads(line)["id"] for line in out] == [1, 2, None, {"a": [1]}, 3, None]


def test_a_missing_or_gbk_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # Regression: a file saved as GBK ended `jinlin parse` with a UnicodeDecodeError traceback,
    # and a missing one with "[Errno 2] ...".
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes('{"id": 1, "text": "明天帮我买菜"}\n'.encode("gbk"))
    for path, reason in ((gbk, "is not UTF-8 text"), (tmp_path / "nope.jsonl", "cannot read")):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli.main", "parse", str(path)],
            capture_output=True,
            timeout=120,
            cwd=REPO,
        )
        err = done.stderr.decode()
        assert done.returncode == 2 and err.startswith("jinlin: ") and reason in err
        assert err.count("\n") == 1
