"""Honest scores: `python -m nlp.evaluate` (or `make evaluate`).

Four measurements, none on data the model or rules were fitted to:

- cross-validation on the TRAIN part of train.jsonl alone, in five folds; each fold is
  scored by a model fitted to the other four plus the dev set and our own written messages
  (which are never scored). Its messages come from the same writers as the messages the
  parser is judged on, so this is the measure designs are chosen by. The model alone, the
  rules alone and the whole parser are compared; `--errors` lists the messages it misread.
- the same over the TRAIN part and the dev set together (our own data only in training).
  The rules were written with the dev set and the TRAIN part in view, so their share of
  both cross-validations is optimistic; the model's is not.
- blind2: our second blind set, written from the contract before any parser error was
  read, scored by the shipped model alone, the rules alone and the whole parser.
- the TEST part: every fifth line of train.jsonl, which nothing was fitted to or read for
  ideas, scored the same way; only aggregates, and only to report.

Only aggregate scores, the emergency table and confusion counts are printed, and with
`--errors` the TRAIN part's misread messages; never a message of blind2 or the TEST part.
Needs the dev extra (scikit-learn) for the cross-validation.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

from nlp.combine import EMERGENCY
from nlp.labelled import Row, blind2, devset, test_part, train_part
from nlp.parser import Parser
from nlp.scorer import LinearScorer
from nlp.scoring import FIELDS, Contract, Scores, score

__all__ = [
    "Scores",
    "cross_validate",
    "cross_validate_train",
    "evaluate_test_part",
    "held_out",
    "score",
]

# The labels assume this --now: Monday 23 November 2026, 09:00 local time.
NOW = datetime(2026, 11, 23, 9, 0)
FOLDS = 5
# Thresholds of the emergency head shown out of fold, to choose nlp.combine.EMERGENCY by.
CURVE = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
# The model decides these fields (and the emergency table) on its own.
MODEL_FIELDS = ("intent", "category")


def parse_all(parser: Parser, rows: Sequence[Row]) -> list[Contract]:
    """The parser's contract output for each row."""
    return [parser.parse(row["text"], NOW).to_contract() for row in rows]


def model_only(scorer: LinearScorer, features: Sequence[list[str]]) -> list[Contract]:
    """The learned scorer's own answers: intent, category for requests, and emergency when
    its emergency head reaches the parser's threshold."""
    out = []
    for feats in features:
        guesses = scorer.score(feats)
        intent = guesses["intent"].label
        danger = guesses["emergency"].probability("yes") >= EMERGENCY
        out.append(
            {
                "intent": intent,
                "category": guesses["category"].label if intent == "request_help" else None,
                "urgency": "emergency" if danger else None,
            }
        )
    return out


def emergency_curve(probabilities: Sequence[float], rows: Sequence[Row]) -> str:
    """Recall and false emergencies of the emergency head at a few thresholds."""
    labelled = [row["urgency"] == "emergency" for row in rows]
    yes = [p for p, e in zip(probabilities, labelled, strict=True) if e]
    no = [p for p, e in zip(probabilities, labelled, strict=True) if not e]
    parts = []
    for threshold in CURVE:
        recall = sum(p >= threshold for p in yes) / max(len(yes), 1)
        false = sum(p >= threshold for p in no) / max(len(no), 1)
        parts.append(f"{threshold:.2f}: {recall:.3f}/{false:.3f}")
    return "  emergency head (recall/false) at " + ", ".join(parts)


def without_model(parser: Parser) -> Parser:
    """The same parser with the rules alone."""
    rules = copy.copy(parser)
    rules.model = None
    return rules


def folds(rows: Sequence[Row]) -> list[list[int]]:
    """Row numbers of each fold: every FOLDS-th row, so each fold mixes both files."""
    return [list(range(k, len(rows), FOLDS)) for k in range(FOLDS)]


class CrossValidation(NamedTuple):
    """Out-of-fold predictions of one cross-validation, in the order of `rows`."""

    rows: list[Row]
    predicted: dict[str, list[Contract]]
    # The emergency head's out-of-fold probability for each row.
    danger: list[float]

    def scores(self) -> dict[str, Scores]:
        """The model alone (on the fields it decides), the rules alone, the whole parser."""
        return {
            name: score(got, self.rows, fields=MODEL_FIELDS if name == "model" else FIELDS)
            for name, got in self.predicted.items()
        }


def run_folds(
    parser: Parser,
    pool: Sequence[Row],
    extra: Sequence[Row],
    progress: Callable[[str], None] = lambda _: None,
) -> CrossValidation:
    """Five folds of `pool`, each scored by a model fitted to the other four plus `extra`
    (which is only ever trained on), by the rules alone and by the whole parser."""
    from nlp.training import featurise, fit

    pool_features = featurise(parser, pool)
    extra_features = featurise(parser, extra)
    rules = without_model(parser)
    predicted: dict[str, list[Contract]] = {"model": [], "rules": [], "parser": []}
    order: list[int] = []
    danger: list[float] = []
    for k, held in enumerate(folds(pool)):
        held_set = set(held)
        train_rows = [row for i, row in enumerate(pool) if i not in held_set] + list(extra)
        train_feats = [f for i, f in enumerate(pool_features) if i not in held_set]
        combined = copy.copy(parser)
        combined.model = LinearScorer(fit(train_feats + extra_features, train_rows))
        held_rows = [pool[i] for i in held]
        held_features = [pool_features[i] for i in held]
        predicted["model"] += model_only(combined.model, held_features)
        scores = [combined.model.score(f)["emergency"] for f in held_features]
        danger += [guess.probability("yes") for guess in scores]
        predicted["rules"] += parse_all(rules, held_rows)
        predicted["parser"] += parse_all(combined, held_rows)
        order += held
        progress(f"fold {k + 1}/{FOLDS} done")
    return CrossValidation([pool[i] for i in order], predicted, danger)


def cross_validate(
    parser: Parser, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Scores]:
    """Five-fold scores over the TRAIN part and the dev set; our own data only in training."""
    from nlp.training import own_rows

    result = run_folds(parser, train_part() + devset(), own_rows(), progress)
    progress(emergency_curve(result.danger, result.rows))
    return result.scores()


def cross_validate_train(
    parser: Parser, progress: Callable[[str], None] = lambda _: None
) -> CrossValidation:
    """Five folds of the TRAIN part of train.jsonl alone: the messages most like the ones
    the parser is judged on (the same writers). The dev set and our own data are only ever
    in the training folds."""
    from nlp.training import own_rows

    result = run_folds(parser, train_part(), devset() + own_rows(), progress)
    progress(emergency_curve(result.danger, result.rows))
    return result


def misread(result: CrossValidation, fields: Sequence[str] = ("intent", "category")) -> str:
    """The TRAIN-part messages the whole parser misread out of fold, one a line, to read for
    what the contract's definitions say of them (never for the TEST part)."""
    lines = []
    for row, got in zip(result.rows, result.predicted["parser"], strict=True):
        wrong = [f"{name} {row[name]}->{got[name]}" for name in fields if got[name] != row[name]]
        if wrong:
            lines.append(f"{'; '.join(wrong)}\t{row['text']}")
    return "\n".join(sorted(lines))


def held_out(parser: Parser, rows: Sequence[Row]) -> dict[str, Scores]:
    """The shipped model alone, the rules alone and the whole parser on held-out rows."""
    out = {
        "parser": score(parse_all(parser, rows), rows),
        "rules": score(parse_all(without_model(parser), rows), rows),
    }
    if parser.model is not None:
        features = [parser.features(row["text"]) for row in rows]
        out["model"] = score(model_only(parser.model, features), rows, fields=MODEL_FIELDS)
    return out


def evaluate_test_part(parser: Parser) -> Scores:
    """The whole parser on the held-out TEST part."""
    rows = test_part()
    return score(parse_all(parser, rows), rows)


def _print_three(title: str, results: dict[str, Scores], confusion: bool) -> None:
    print(title)
    for name, label in (("model", "model alone"), ("rules", "rules alone (no model)")):
        if name in results:
            print(results[name].report(label, confusion))
    print(results["parser"].report("whole parser", confusion))
    print()


def main(argv: Sequence[str] | None = None) -> None:
    """Print the cross-validation, TEST-part and blind2 scores."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    args.add_argument("--no-test", action="store_true", help="skip the TEST part")
    args.add_argument("--no-blind", action="store_true", help="skip blind2")
    args.add_argument("--confusion", action="store_true", help="also print confusion counts")
    args.add_argument(
        "--errors", action="store_true", help="print the TRAIN-part messages misread out of fold"
    )
    opts = args.parse_args(argv)
    parser = Parser()
    if not opts.no_cv:
        progress = lambda line: print(line, flush=True)  # noqa: E731
        train_only = cross_validate_train(parser, progress)
        title = (
            "Cross-validation, TRAIN part alone, 5 folds (dev set and own data only in training):"
        )
        _print_three(title, train_only.scores(), opts.confusion)
        if opts.errors:
            print(misread(train_only, ("intent", "category", "urgency")), end="\n\n")
        results = cross_validate(parser, progress)
        title = "Cross-validation, TRAIN part + dev set, 5 folds (own data only in training):"
        _print_three(title, results, opts.confusion)
    if not opts.no_blind:
        _print_three("blind2 (selection set):", held_out(parser, blind2()), opts.confusion)
    if not opts.no_test:
        _print_three("Held-out TEST part:", held_out(parser, test_part()), opts.confusion)


if __name__ == "__main__":
    main()
