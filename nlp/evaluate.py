"""Honest scores: `python -m nlp.evaluate` (or `make evaluate`).

Three measurements, none on data the model or rules were fitted to:

- cross-validation: the TRAIN part of train.jsonl and the dev set in five folds; each fold
  is scored by a model fitted to the other four plus our own written messages (which are
  never scored). The model alone, the rules alone and the whole parser are compared.
  The rules were written with the dev set and the TRAIN part in view, so their share of
  these numbers is optimistic; the model's is not.
- the TEST part: every fifth line of train.jsonl, which nothing was fitted to or read for
  ideas, scored by the shipped model alone, the rules alone and the whole parser.
- blind2: our second blind set, written from the contract before any parser error was
  read, scored the same way; it is what designs are chosen by.

Only aggregate scores, the emergency table and confusion counts are printed, never a
message. Needs the dev extra (scikit-learn) for the cross-validation.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable, Sequence
from datetime import datetime

from nlp.combine import EMERGENCY
from nlp.labelled import Row, blind2, devset, test_part, train_part
from nlp.parser import Parser
from nlp.scorer import LinearScorer
from nlp.scoring import Contract, Scores, score

__all__ = ["Scores", "cross_validate", "evaluate_test_part", "held_out", "score"]

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


def cross_validate(
    parser: Parser, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Scores]:
    """Five-fold scores of the model alone, the rules alone and the whole parser."""
    from nlp.training import featurise, fit, own_rows

    pool = train_part() + devset()
    own = own_rows()
    pool_features = featurise(parser, pool)
    own_features = featurise(parser, own)
    rules = without_model(parser)
    predicted: dict[str, list[Contract]] = {"model": [], "rules": [], "parser": []}
    order: list[int] = []
    danger: list[float] = []
    for k, held in enumerate(folds(pool)):
        held_set = set(held)
        train_rows = [row for i, row in enumerate(pool) if i not in held_set] + own
        train_feats = [f for i, f in enumerate(pool_features) if i not in held_set]
        document = fit(train_feats + own_features, train_rows)
        combined = copy.copy(parser)
        combined.model = LinearScorer(document)
        held_rows = [pool[i] for i in held]
        held_features = [pool_features[i] for i in held]
        predicted["model"] += model_only(combined.model, held_features)
        scores = [combined.model.score(f)["emergency"] for f in held_features]
        danger += [guess.probability("yes") for guess in scores]
        predicted["rules"] += parse_all(rules, held_rows)
        predicted["parser"] += parse_all(combined, held_rows)
        order += held
        progress(f"fold {k + 1}/{FOLDS} done")
    rows = [pool[i] for i in order]
    out = {name: score(got, rows) for name, got in predicted.items() if name != "model"}
    # The model reads no slots: it is scored on the fields it decides.
    out["model"] = score(predicted["model"], rows, fields=MODEL_FIELDS)
    progress(emergency_curve(danger, rows))
    return out


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
    opts = args.parse_args(argv)
    parser = Parser()
    if not opts.no_cv:
        results = cross_validate(parser, progress=lambda line: print(line, flush=True))
        title = "Cross-validation, TRAIN part + dev set, 5 folds (own data only in training):"
        _print_three(title, results, opts.confusion)
    if not opts.no_blind:
        _print_three("blind2 (selection set):", held_out(parser, blind2()), opts.confusion)
    if not opts.no_test:
        _print_three("Held-out TEST part:", held_out(parser, test_part()), opts.confusion)


if __name__ == "__main__":
    main()
