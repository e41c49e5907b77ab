"""The whole labelled dev set and the team's older messages, with per-field thresholds.

Both are training data of the learned scorer now (nlp.training), so these are regression
checks, not measures of quality: honest scores come from cross-validation and the held-out
TEST part (tests/nlp/test_nlp_model.py, `make evaluate`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nlp import Parser
from tests.nlp.conftest import NOW

# The shared dev set when it is checked out beside the repo (it may be newer), else the copy
# kept with the tests, so that CI always scores the parser on it.
SHARED = Path(__file__).resolve().parents[3] / "shared/nlp/devset.jsonl"
DEVSET = (
    SHARED
    if SHARED.is_file()
    else Path(__file__).resolve().parents[1] / "fixtures/nlp/devset.jsonl"
)
HELDOUT = Path(__file__).with_name("heldout.jsonl")
FIELDS = ("intent", "category", "urgency", "when", "where", "phone", "score", "task_ref")
# The parser is fitted to these messages and is expected to sit well above these.
THRESHOLDS = {"intent": 0.97, "category": 0.95, "urgency": 0.95} | {
    name: 0.97 for name in ("when", "where", "phone", "score", "task_ref")
}


def score_file(path: Path, parser: Parser) -> tuple[dict[str, float], str]:
    """Per-field accuracy over a labelled JSON-lines file, and a report of the misses."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    misses: dict[str, list[str]] = {name: [] for name in FIELDS}
    pairs: dict[str, Counter[tuple[Any, Any]]] = {"intent": Counter(), "category": Counter()}
    for row in rows:
        got = parser.parse(row["text"], NOW).to_contract()
        for name in FIELDS:
            if got[name] != row[name]:
                misses[name].append(
                    f"  {row['id']} {row['text'][:40]!r}: {row[name]!r} -> {got[name]!r}"
                )
                if name in pairs:
                    pairs[name][(row[name], got[name])] += 1
    accuracy = {name: 1 - len(misses[name]) / len(rows) for name in FIELDS}
    lines = []
    for name in FIELDS:
        lines.append(f"{name}: {accuracy[name]:.3f} ({len(misses[name])} wrong of {len(rows)})")
        if pairs.get(name):
            confusion = ", ".join(f"{a}->{b} x{n}" for (a, b), n in pairs[name].most_common())
            lines.append(f"  confusion: {confusion}")
        lines.extend(misses[name])
    return accuracy, "\n".join(lines)


def check(path: Path, parser: Parser) -> None:
    accuracy, report = score_file(path, parser)
    print(report)
    failing = {
        name: round(accuracy[name], 3) for name in FIELDS if accuracy[name] < THRESHOLDS[name]
    }
    assert not failing, f"below threshold: {failing}\n{report}"


def test_devset(parser: Parser) -> None:
    if not DEVSET.exists():
        pytest.skip(f"the shared dev set is not checked out next to the repo ({DEVSET})")
    # Its labels assume --now 2026-11-23T09:00 (e.g. 礼拜四下午 -> 2026-11-26T15:00).
    check(DEVSET, parser)


def test_team_messages(parser: Parser) -> None:
    """The messages the team wrote for the parser's first version (training data now)."""
    check(HELDOUT, parser)
