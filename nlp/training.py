"""Training the learned scorer: `python -m nlp.training` (or `make train`) rewrites weights.json.

Needs the dev extra (scikit-learn); the runtime parser never imports this module. The
model is fitted to the TRAIN part of train.jsonl, the dev set and our own written
messages, never to the TEST part (see nlp.labelled). The output is byte-for-byte the same
on every run: the rows are read in file order, the solver is deterministic and runs on
one thread, and the weights are rounded and written with sorted keys.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlp.labelled import (
    OWN_FILE,
    ROUND2_FILE,
    ROUND3_FILE,
    ROUND4_FILE,
    TEAM_FILE,
    Row,
    devset,
    numbered_rows,
    train_part,
)
from nlp.parser import Parser
from nlp.scorer import DEFAULT_WEIGHTS

# One thread, so sums are added in one order and the weights come out the same each run.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# The fields the model scores, each trained on the rows that have it. `emergency` is read
# from every row (yes when its urgency is emergency): a second opinion on danger beside the
# detector's, and the only use the parser has for the model's urgency (urgent and normal
# follow the contract's words).
HEADS = ("intent", "category", "emergency")
# Regularisation (inverse strength) per head, chosen by cross-validation (nlp.evaluate).
STRENGTH = {"intent": 2.0, "category": 2.0, "emergency": 1.0}
# Heads whose logistic regression is joined by a complement naive Bayes: the two weight
# tables are mixed at this share of the Bayes's (centred) log-likelihoods. Cross-validation
# on the TRAIN part, whole parser: intent 0.972 -> 0.978 (model alone 0.966 -> 0.976),
# blind2 0.970 -> 0.979; 0.1 and 0.3 scored within a message of 0.2. Mixed, not added on
# top: the sum was as accurate but surer of itself, so that vague messages the bot should
# ask about (这个我看看) passed the threshold of being sure. On the category head too, the
# whole parser read categories worse (0.970 -> 0.966).
NAIVE_BAYES = {"intent": 0.2}
# A feature must occur in this many training messages to get a weight at all.
MIN_COUNT = 2
# Weights are rounded to this many decimals, and a feature whose weights all round to less
# than PRUNE is left out: it would change no decision and only slow the start-up. Runs of
# three characters need more weight to stay (PRUNE_TRIPLES): they are half the features,
# and cross-validation and the blind set scored the same without the faint ones, while a
# smaller table is a faster one (it stays in the processor's cache).
DECIMALS = 3
PRUNE = 0.01
PRUNE_TRIPLES = 0.1


def own_rows() -> list[Row]:
    """Messages we wrote ourselves: every input variety of the contract, and the team's
    older set; only ever in training, never scored."""
    paths = (OWN_FILE, ROUND2_FILE, ROUND3_FILE, ROUND4_FILE, TEAM_FILE)
    return [row for path in paths for _, row in numbered_rows(path)]


def training_rows() -> list[Row]:
    """Everything the shipped model is fitted to."""
    return train_part() + devset() + own_rows()


def featurise(parser: Parser, rows: Sequence[Row]) -> list[list[str]]:
    """The feature list of every row's text, as the parser computes it."""
    return [parser.features(row["text"]) for row in rows]


def fit(features: Sequence[list[str]], rows: Sequence[Row]) -> dict[str, Any]:
    """A weights document fitted to these messages."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from threadpoolctl import threadpool_limits

    seen: Counter[str] = Counter()
    for feats in features:
        seen.update(set(feats))
    vocabulary = sorted(f for f, n in seen.items() if n >= MIN_COUNT)
    column = {f: i for i, f in enumerate(vocabulary)}
    heads: dict[str, Any] = {}
    columns: list[Any] = []
    with threadpool_limits(1):
        for head in HEADS:
            found = [(i, head_label(row, head)) for i, row in enumerate(rows)]
            keep = [i for i, label in found if label is not None]
            labels = [label for _, label in found if label is not None]
            matrix = _matrix([features[i] for i in keep], column, csr_matrix, np)
            classes, coef, bias = _fit_head(head, matrix, labels, np)
            heads[head] = {"classes": classes, "bias": [round(float(b), DECIMALS) for b in bias]}
            columns.append(coef)
    stacked = np.vstack(columns).T  # one row per feature, one column per class of each head
    weights = {}
    for feature, row in zip(vocabulary, stacked, strict=True):
        rounded = [round(float(w), DECIMALS) for w in row]
        floor = PRUNE_TRIPLES if len(feature) == 3 else PRUNE
        if max(abs(w) for w in rounded) >= floor:
            weights[feature] = [w if w else 0 for w in rounded]
    meta = {"messages": len(rows), "features": len(weights), "min_count": MIN_COUNT}
    return {"fields": list(HEADS), "heads": heads, "meta": meta, "weights": weights}


def _fit_head(head: str, matrix: Any, labels: list[str], np: Any) -> tuple[list[str], Any, Any]:
    """One head's classes, weights (a row per class over the features) and biases."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB

    # Rare classes weigh more, so that the many requests for help do not teach the model
    # to see one in every message.
    weight = _balanced(labels, np)
    model = LogisticRegression(C=STRENGTH[head], max_iter=2000)
    model.fit(matrix, labels, sample_weight=weight)
    classes = [str(c) for c in model.classes_]
    coef, bias = model.coef_, model.intercept_
    if len(classes) == 2:  # a binary head keeps one row; spell out both classes
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2])
    share = NAIVE_BAYES.get(head)
    if share:
        # A complement naive Bayes's log-likelihoods are linear in the features too, so the
        # two models' sum is one linear model and the parser needs nothing new. Centred per
        # feature (a softmax does not see a shift common to all classes), so that a feature
        # seen in no class of note stays small enough to prune.
        bayes = ComplementNB().fit(matrix, labels, sample_weight=weight)
        log_prob = bayes.feature_log_prob_
        coef = (1 - share) * coef + share * (log_prob - log_prob.mean(axis=0))
        bias = (1 - share) * bias
    return classes, coef, bias


def head_label(row: Row, head: str) -> str | None:
    """A row's class for one head (None: the row does not train that head)."""
    if head == "emergency":
        return "yes" if row["urgency"] == "emergency" else "no"
    value = row.get(head)
    return None if value is None else str(value)


def _balanced(labels: Sequence[str], np: Any) -> Any:
    # The square root of full balancing: rare intents count more, but not so much that
    # the model sees small talk in every short request.
    counts = Counter(labels)
    share = len(labels) / len(counts)
    return np.array([(share / counts[label]) ** 0.5 for label in labels])


def _matrix(features: Sequence[list[str]], column: dict[str, int], csr: Any, np: Any) -> Any:
    data: list[float] = []
    indices: list[int] = []
    pointers = [0]
    for feats in features:
        counts = Counter(column[f] for f in feats if f in column)
        for index in sorted(counts):
            indices.append(index)
            data.append(float(counts[index]))
        pointers.append(len(indices))
    return csr((data, indices, pointers), shape=(len(features), len(column)), dtype=np.float64)


def dump(document: dict[str, Any]) -> str:
    """The weights file's text: sorted keys, one feature per line, so diffs stay readable."""
    head = {key: value for key, value in document.items() if key != "weights"}
    lines = ["{", f'"fields": {json.dumps(head["fields"])},']
    lines.append(f'"heads": {json.dumps(head["heads"], ensure_ascii=False, sort_keys=True)},')
    lines.append(f'"meta": {json.dumps(head["meta"], sort_keys=True)},')
    lines.append('"weights": {')
    items = sorted(document["weights"].items())
    for n, (feature, row) in enumerate(items):
        comma = "," if n < len(items) - 1 else ""
        lines.append(f"{json.dumps(feature, ensure_ascii=False)}: {json.dumps(row)}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Fit the shipped model to every training row and write it out."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    opts = args.parse_args(argv)
    parser = Parser(use_model=False)
    rows = training_rows()
    document = fit(featurise(parser, rows), rows)
    opts.out.write_text(dump(document), encoding="utf-8")
    print(f"wrote {opts.out}: {document['meta']}")


if __name__ == "__main__":
    main()
