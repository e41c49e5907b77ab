"""Honest scores: `python -m nlp.evaluate` (or `make evaluate`).

Two measurements, neither on data the model was fitted to:

- cross-validation: the TRAIN part of train.jsonl and the dev set in five folds; each fold
  is scored by a model fitted to the other four plus our own written messages (which are
  never scored). The model alone, the rules alone and the whole parser are compared.
  The rules were written with the dev set and the TRAIN part in view, so their share of
  these numbers is optimistic; the model's is not.
- the TEST part: every fifth line of train.jsonl, which nothing was fitted to or read for
  ideas, scored by the whole shipped parser. Only aggregate scores and the emergency
  confusion table are printed, never the messages.

Needs the dev extra (scikit-learn) for the cross-validation.
"""

from __future__ import annotations

import argparse
import copy
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nlp.labelled import Row, devset, test_part, train_part
from nlp.parser import Parser
from nlp.scorer import LinearScorer

# The labels assume this --now: Monday 23 November 2026, 09:00 local time.
NOW = datetime(2026, 11, 23, 9, 0)
FIELDS = ("intent", "category", "urgency", "when", "where", "phone", "score", "task_ref")
FOLDS = 5
# A parse in the contract's JSON form.
Contract = dict[str, Any]


@dataclass(frozen=True)
class Scores:
    """Per-field accuracy and the emergency confusion counts over some messages."""

    count: int
    accuracy: dict[str, float]
    # (labelled emergency, parsed as emergency) -> messages
    emergencies: dict[tuple[bool, bool], int]

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

    def report(self, title: str) -> str:
        """A few lines: the fields, then the emergency table."""
        fields = "  ".join(f"{name} {self.accuracy[name]:.3f}" for name in self.accuracy)
        e = self.emergencies
        return "\n".join(
            [
                f"{title} ({self.count} messages)",
                f"  {fields}",
                f"  emergency recall {self.recall:.3f}, false emergencies {self.false_rate:.3f}",
                "                      parsed emergency   parsed other",
                f"    labelled emergency  {e[True, True]:>16}   {e[True, False]:>12}",
                f"    labelled other      {e[False, True]:>16}   {e[False, False]:>12}",
            ]
        )


def score(
    predicted: Sequence[Contract], rows: Sequence[Row], fields: Sequence[str] = FIELDS
) -> Scores:
    """Scores of predicted contract dicts against the labelled rows."""
    right: Counter[str] = Counter()
    table: Counter[tuple[bool, bool]] = Counter()
    for got, row in zip(predicted, rows, strict=True):
        for name in fields:
            right[name] += got[name] == row[name]
        table[row["urgency"] == "emergency", got["urgency"] == "emergency"] += 1
    count = len(rows)
    emergencies = {(a, b): table[a, b] for a in (True, False) for b in (True, False)}
    return Scores(count, {name: right[name] / count for name in fields}, emergencies)


def parse_all(parser: Parser, rows: Sequence[Row]) -> list[Contract]:
    """The parser's contract output for each row."""
    return [parser.parse(row["text"], NOW).to_contract() for row in rows]


def model_only(scorer: LinearScorer, features: Sequence[list[str]]) -> list[Contract]:
    """The learned scorer's own answers, with category and urgency only for requests."""
    out = []
    for feats in features:
        guesses = scorer.score(feats)
        intent = guesses["intent"].label
        helps = intent == "request_help"
        out.append(
            {
                "intent": intent,
                "category": guesses["category"].label if helps else None,
                "urgency": guesses["urgency"].label if helps else None,
            }
        )
    return out


def folds(rows: Sequence[Row]) -> list[list[int]]:
    """Row numbers of each fold: every FOLDS-th row, so each fold mixes both files."""
    return [list(range(k, len(rows), FOLDS)) for k in range(FOLDS)]


def cross_validate(
    parser: Parser, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Scores]:
    """Five-fold scores of the model alone, the rules alone and the whole parser."""
    from nlp.training import featurise, fit, own_rows

    pool = train_part() + devset()
    own = own_rows()
    pool_features = featurise(parser, pool)
    own_features = featurise(parser, own)
    rules = copy.copy(parser)
    rules.model = None
    predicted: dict[str, list[Contract]] = {"model": [], "rules": [], "parser": []}
    order: list[int] = []
    for k, held in enumerate(folds(pool)):
        held_set = set(held)
        train_rows = [row for i, row in enumerate(pool) if i not in held_set] + own
        train_feats = [f for i, f in enumerate(pool_features) if i not in held_set]
        document = fit(train_feats + own_features, train_rows)
        combined = copy.copy(parser)
        combined.model = LinearScorer(document)
        held_rows = [pool[i] for i in held]
        predicted["model"] += model_only(combined.model, [pool_features[i] for i in held])
        predicted["rules"] += parse_all(rules, held_rows)
        predicted["parser"] += parse_all(combined, held_rows)
        order += held
        progress(f"fold {k + 1}/{FOLDS} done")
    rows = [pool[i] for i in order]
    out = {name: score(got, rows) for name, got in predicted.items() if name != "model"}
    # The model reads no slots: it is scored on the three fields it decides.
    out["model"] = score(predicted["model"], rows, fields=FIELDS[:3])
    return out


def evaluate_test_part(parser: Parser) -> Scores:
    """The whole parser on the held-out TEST part."""
    rows = test_part()
    return score(parse_all(parser, rows), rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the cross-validation and TEST-part scores."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--no-cv", action="store_true", help="only the TEST part")
    args.add_argument("--no-test", action="store_true", help="only the cross-validation")
    opts = args.parse_args(argv)
    parser = Parser()
    if not opts.no_cv:
        results = cross_validate(parser, progress=lambda line: print(line, flush=True))
        print("Cross-validation, TRAIN part + dev set, 5 folds (own data only in training):")
        print(results["model"].report("model alone"))
        print(results["rules"].report("rules alone (no model)"))
        print(results["parser"].report("whole parser"))
        print()
    if not opts.no_test:
        print(evaluate_test_part(parser).report("Whole parser on the held-out TEST part"))


if __name__ == "__main__":
    main()
