"""The learned scorer at run time: a linear model per field, read from weights.json.

Pure Python on purpose: scikit-learn and numpy are needed only to train (nlp.training).
Each feature's weights for every class of every field (27 of them) are packed into one
integer at start-up, a fixed-width field per class: the weights are written in
thousandths, and each field holds its weight plus an offset that keeps it positive. A
message's scores are then one integer sum over its features, instead of 27 float sums,
and one struct.unpack to split it (minus the offsets) — a tenth of the cost, exactly.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from nlp.features import CUE

DEFAULT_WEIGHTS = Path(__file__).with_name("weights.json")
# Weights are stored to three decimals; packed as whole thousandths.
_SCALE = 1000
_PER_UNIT = 1 / _SCALE
# Each packed field is this wide, and each weight (below 32 in size) is stored as its
# thousandths plus _OFFSET, so no field goes negative, and a sum over up to _MOST features
# never carries into the next field. Narrow fields keep the integers short and the sum fast.
_FIELD = 32
_OFFSET = 1 << 15
_MOST = 1 << (_FIELD - 16)


class Guess:
    """One field's best class and its probability; any class's probability on request."""

    __slots__ = ("_classes", "_scores", "_total", "confidence", "label")

    def __init__(self, classes: tuple[str, ...], thousandths: Sequence[int]) -> None:
        top = max(thousandths)
        # The softmax's denominator relative to the best class; most parses ask for no
        # other class's probability, so those are worked out only when asked.
        self._total = sum([math.exp((s - top) * _PER_UNIT) for s in thousandths])
        self._classes, self._scores = classes, thousandths
        self.label = classes[thousandths.index(top)]
        self.confidence = 1 / self._total

    def probability(self, label: str) -> float:
        """The probability of one class (0 for a class the model does not know)."""
        if label not in self._classes:
            return 0.0
        top = max(self._scores)
        score = self._scores[self._classes.index(label)]
        return math.exp((score - top) * _PER_UNIT) / self._total

    def __repr__(self) -> str:
        return f"Guess({self.label!r}, {self.confidence:.3f})"


class LinearScorer:
    """Multinomial logistic regression over sparse string features, one head per field."""

    def __init__(self, document: dict[str, Any]) -> None:
        heads = document["heads"]
        # The order of the fields' columns in every weight row (the heads table is sorted).
        self.fields: tuple[str, ...] = tuple(document["fields"])
        self.meta: dict[str, Any] = document.get("meta", {})
        # Each field's classes and the columns it spans in a packed row.
        self._heads: dict[str, tuple[tuple[str, ...], int, int]] = {}
        column = 0
        biases: list[float] = []
        for name in self.fields:
            classes = tuple(heads[name]["classes"])
            self._heads[name] = (classes, column, column + len(classes))
            biases += heads[name]["bias"]
            column += len(classes)
        self._width = column
        # The biases are packed like a feature's weights, one more row in every sum.
        self._bias = self._pack(biases)
        self._bytes = column * _FIELD // 8
        self._unpack = struct.Struct(f"<{column}I").unpack
        self._table: dict[str, int] = {
            feature: self._pack(row) for feature, row in document["weights"].items()
        }
        self._cues = {
            feature[len(CUE) :]: row
            for feature, row in self._table.items()
            if feature.startswith(CUE)
        }

    @classmethod
    def load(cls, path: Path | None = None) -> LinearScorer:
        """Read a weights file (the shipped one by default)."""
        with Path(path or DEFAULT_WEIGHTS).open(encoding="utf-8") as fh:
            return cls(json.load(fh))

    def _pack(self, row: list[float]) -> int:
        if len(row) != self._width:
            raise ValueError(f"a weight row has {len(row)} columns, not {self._width}")
        packed = 0
        for column, weight in enumerate(row):
            thousandths = round(weight * _SCALE)
            if abs(thousandths) >= _OFFSET:
                raise ValueError(f"weight {weight} is too large to pack")
            packed |= (thousandths + _OFFSET) << (_FIELD * column)
        return packed

    def score(self, features: list[str]) -> Scores:
        """The scores of a message with these features (each field's guess on request)."""
        # A packed row is never 0 (every field holds an offset), so filter(None) drops only
        # the features the model has no weights for.
        return self._scores(list(filter(None, map(self._table.get, features))))

    def score_message(self, clean: str, tags: Iterable[str]) -> Scores:
        """score(message_features(clean, tags)), without building the feature list.

        Runs of one to three characters are looked up as they are; a cue tag in its own
        table without the prefix (tests check the two ways agree).
        """
        get = self._table.get
        text = f" {clean} "
        packed = list(filter(None, map(get, clean)))
        packed += filter(None, map(get, [text[i : i + 2] for i in range(len(text) - 1)]))
        packed += filter(None, map(get, [text[i : i + 3] for i in range(len(text) - 2)]))
        packed += filter(None, map(self._cues.get, tags))
        return self._scores(packed)

    def _scores(self, packed: list[int]) -> Scores:
        # A message with more than _MOST known features (some 15,000 characters) is scored
        # on its first _MOST. One C call splits the sum back into its fields.
        total = sum(packed[: _MOST - 1], self._bias)
        return Scores(self, self._unpack(total.to_bytes(self._bytes, "little")))

    def guess(self, field: str, fields: tuple[int, ...]) -> Guess:
        """One field's guess from the unpacked sums of feature weights (see Scores)."""
        classes, start, end = self._heads[field]
        # Every field also holds the same offset; a softmax is blind to a common shift.
        return Guess(classes, fields[start:end])


class Scores:
    """A message's summed weights; each field's guess is worked out when first asked for,
    as most messages need only the intent's."""

    __slots__ = ("_fields", "_guesses", "_scorer")

    def __init__(self, scorer: LinearScorer, fields: tuple[int, ...]) -> None:
        self._scorer, self._fields = scorer, fields
        self._guesses: dict[str, Guess] = {}

    def __getitem__(self, field: str) -> Guess:
        guess = self._guesses.get(field)
        if guess is None:
            guess = self._scorer.guess(field, self._fields)
            self._guesses[field] = guess
        return guess
