"""Scoring parses against labels: per-field accuracy, the emergency table, confusion counts.

Only aggregates leave this module: counts per (labelled, parsed) pair, never a message, so
held-out sets can be scored without anyone reading what went wrong in them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("intent", "category", "urgency", "when", "where", "phone", "score", "task_ref")
# A parse in the contract's JSON form, and a labelled message.
Contract = dict[str, Any]
Row = dict[str, Any]


@dataclass(frozen=True)
class Scores:
    """Per-field accuracy and the emergency confusion counts over some messages."""

    count: int
    accuracy: dict[str, float]
    # (labelled emergency, parsed as emergency) -> messages
    emergencies: dict[tuple[bool, bool], int]
    # field -> (labelled, parsed) -> messages, for the pairs that differ
    confusion: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        """The share of labelled emergencies parsed as emergencies."""
        hit, missed = self.emergencies[True, True], self.emergencies[True, False]
        return hit / (hit + missed) if hit + missed else 1.0

    @property
    def false_rate(self) -> float:
        """The share of other messages parsed as emergencies."""
        wrong, right = self.emergencies[False, True], self.emergencies[False, False]
        return wrong / (wrong + right) if wrong + right else 0.0

    def report(self, title: str, confusion: bool = False) -> str:
        """A few lines: the fields, the emergency table, and on request the confusions."""
        fields = "  ".join(f"{name} {self.accuracy[name]:.3f}" for name in self.accuracy)
        e = self.emergencies
        lines = [
            f"{title} ({self.count} messages)",
            f"  {fields}",
            f"  emergency recall {self.recall:.3f}, false emergencies {self.false_rate:.3f}",
            "                      parsed emergency   parsed other",
            f"    labelled emergency  {e[True, True]:>16}   {e[True, False]:>12}",
            f"    labelled other      {e[False, True]:>16}   {e[False, False]:>12}",
        ]
        if confusion:
            for name, pairs in self.confusion.items():
                worst = ", ".join(f"{a}->{b} {n}" for (a, b), n in pairs.most_common(12))
                lines.append(f"  {name} confusions (labelled->parsed): {worst or 'none'}")
        return "\n".join(lines)


def score(
    predicted: Sequence[Contract], rows: Sequence[Row], fields: Sequence[str] = FIELDS
) -> Scores:
    """Scores of predicted contract dicts against the labelled rows.

    Category and urgency confusions are counted only where both sides read a request for
    help, so they say how the field itself goes wrong, not the intent.
    """
    right: Counter[str] = Counter()
    table: Counter[tuple[bool, bool]] = Counter()
    confusion: dict[str, Counter[tuple[str, str]]] = {
        name: Counter() for name in ("intent", "category", "urgency") if name in fields
    }
    for got, row in zip(predicted, rows, strict=True):
        for name in fields:
            right[name] += got[name] == row[name]
        table[row["urgency"] == "emergency", got["urgency"] == "emergency"] += 1
        both_help = got["intent"] == row["intent"] == "request_help"
        for name, pairs in confusion.items():
            if got[name] != row[name] and (name == "intent" or both_help):
                pairs[str(row[name]), str(got[name])] += 1
    count = len(rows)
    emergencies = {(a, b): table[a, b] for a in (True, False) for b in (True, False)}
    accuracy = {name: right[name] / count for name in fields}
    return Scores(count, accuracy, emergencies, confusion)
