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
from itertools import chain, compress, repeat
from operator import add, not_, sub
from pathlib import Path
from typing import Any

from nlp.features import CUE, LONGEST

DEFAULT_WEIGHTS = Path(__file__).with_name("weights.json")
# Weights are stored to three decimals; packed as whole thousandths.
_SCALE = 1000
_PER_UNIT = 1 / _SCALE
# e^(1/1000): one thousandth of a weight, as a factor.
_BASE = math.exp(_PER_UNIT)
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
        # The softmax's denominator relative to the best class, e^((s - top) / 1000) summed
        # as _BASE ** (s - top) in C loops; most parses ask for no other class's
        # probability, so those are worked out only when asked.
        shifts = map(sub, thousandths, repeat(top))
        self._total: float = sum(map(pow, repeat(_BASE), shifts))
        self._classes, self._scores = classes, thousandths
        self.label = classes[thousandths.index(top)]
        self.confidence = 1 / self._total

    def probability(self, label: str) -> float:
        """The probability of one class (0 for a class the model does not know)."""
        if label not in self._classes:
            return 0.0
        top = max(self._scores)
        score = self._scores[self._classes.index(label)]
        return float(_BASE ** (score - top)) / self._total

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
        # For score_message: each character's row is added into the row of the pair it
        # starts, so a message costs one lookup per position where its pair is known (most)
        # and two where it is not. The text's last character, always the closing space,
        # starts no pair: its row goes into the bias. Fused rows hold two offsets; every
        # field holds as many as the others, which a softmax does not see.
        self._chars = {f: row for f, row in self._table.items() if len(f) == 1}
        self._pairs = {
            f: row + self._chars.get(f[0], 0) for f, row in self._table.items() if len(f) == 2
        }
        self._triples = {f: row for f, row in self._table.items() if len(f) == 3}
        self._bias_and_end = self._bias + self._chars.get(" ", 0)

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

        The pairs and triples are made by adding shifted copies of the text (C loops, no
        slicing per position); a character is looked up on its own only where its pair is
        unknown (see __init__), and every row is summed in one call. A cue tag is looked up
        in its own table without the prefix (tests check the two ways agree).
        """
        text = f" {clean[:LONGEST]} "
        pairs = list(map(add, text, text[1:]))
        known = list(map(self._pairs.get, pairs))
        lone = map(self._chars.get, compress(text, map(not_, known)))
        triples = map(self._triples.get, map(add, pairs, text[2:]))
        cues = map(self._cues.get, tags)
        rows = chain(filter(None, known), filter(None, lone), filter(None, triples))
        return self._sum(sum(chain(rows, filter(None, cues)), self._bias_and_end))

    def _scores(self, packed: list[int]) -> Scores:
        # A feature list longer than _MOST is scored on its first _MOST.
        return self._sum(sum(packed[: _MOST - 1], self._bias))

    def _sum(self, total: int) -> Scores:
        # One C call splits the sum back into its fields.
        return Scores(self, self._unpack(total.to_bytes(self._bytes, "little")))

    def guess(self, field: str, fields: tuple[int, ...]) -> Guess:
        """One field's guess from the unpacked sums of feature weights (see Scores)."""
        classes, start, end = self._heads[field]
        # Every field also holds the same offset; a softmax is blind to a common shift.
        return Guess(classes, fields[start:end])

    def log_odds(self, field: str, label: str, fields: tuple[int, ...]) -> float:
        """log(P(label) / P(the other class)) of a two-class field, from the unpacked sums."""
        classes, start, _ = self._heads[field]
        mine = start + classes.index(label)
        other = start + (1 - classes.index(label))
        return (fields[mine] - fields[other]) * _PER_UNIT


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

    def log_odds(self, field: str, label: str) -> float:
        """log(P(label) / P(not label)) of a two-class field: a threshold on a probability
        without working out the probability (nlp.combine compares it with the threshold's)."""
        return self._scorer.log_odds(field, label, self._fields)
