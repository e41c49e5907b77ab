"""The learned scorer at run time: a linear model per field, read from weights.json.

Pure Python on purpose: scikit-learn and numpy are needed only to train (nlp.training).
Each feature maps to one tuple holding its weight for every class of every field, so a
message costs one dict lookup per feature and one column sum per class.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_WEIGHTS = Path(__file__).with_name("weights.json")


@dataclass(frozen=True, slots=True)
class Guess:
    """One field's best class, its probability, and every class's probability."""

    label: str
    confidence: float
    probabilities: dict[str, float]

    def probability(self, label: str) -> float:
        """The probability of one class (0 for a class the model does not know)."""
        return self.probabilities.get(label, 0.0)


class LinearScorer:
    """Multinomial logistic regression over sparse string features, one head per field."""

    def __init__(self, document: dict[str, Any]) -> None:
        heads = document["heads"]
        # The order of the fields' columns in every weight row (the heads table is sorted).
        self.fields: tuple[str, ...] = tuple(document["fields"])
        self._classes = [tuple(heads[name]["classes"]) for name in self.fields]
        bias: list[float] = []
        for name in self.fields:
            bias.extend(heads[name]["bias"])
        self._bias = tuple(bias)
        self._width = len(bias)
        self._table: dict[str, tuple[float, ...]] = {
            feature: tuple(row) for feature, row in document["weights"].items()
        }
        self.meta: dict[str, Any] = document.get("meta", {})

    @classmethod
    def load(cls, path: Path | None = None) -> LinearScorer:
        """Read a weights file (the shipped one by default)."""
        with Path(path or DEFAULT_WEIGHTS).open(encoding="utf-8") as fh:
            return cls(json.load(fh))

    def score(self, features: list[str]) -> dict[str, Guess]:
        """Each field's guess for a message with these features."""
        lookup = self._table.get
        rows = [row for row in map(lookup, features) if row is not None]
        rows.append(self._bias)
        totals = list(map(sum, zip(*rows, strict=True))) if len(rows) > 1 else rows[0]
        guesses = {}
        start = 0
        for name, classes in zip(self.fields, self._classes, strict=True):
            end = start + len(classes)
            guesses[name] = _softmax(classes, totals[start:end])
            start = end
        return guesses


def _softmax(classes: tuple[str, ...], scores: Any) -> Guess:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    probabilities = {c: e / total for c, e in zip(classes, exps, strict=True)}
    best = max(range(len(classes)), key=scores.__getitem__)
    return Guess(classes[best], exps[best] / total, probabilities)
