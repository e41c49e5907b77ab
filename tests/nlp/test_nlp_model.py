"""The learned scorer: honest scores with floors, exact packed sums, reproducible training,
and a runtime that needs neither numpy nor scikit-learn.

The floors sit a little under what `make evaluate` reports, so a change that makes the
parser generalise worse fails here. The cross-validation needs the dev extra
(scikit-learn), which `make install` brings.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from nlp import Parser, labelled
from nlp.combine import (
    EMERGENCY,
    GUESS_FLOOR,
    MAYBE_EMERGENCY,
    SURE,
    choose_intent,
    is_emergency,
    may_be_emergency,
)
from nlp.danger import Danger
from nlp.evaluate import (
    Scores,
    cross_validate,
    cross_validate_train,
    evaluate_test_part,
    held_out,
)
from nlp.features import message_features
from nlp.intent import RuleIntent
from nlp.scorer import Guess, LinearScorer
from nlp.training import own_rows, training_rows

REPO = Path(__file__).resolve().parents[2]

# Five-fold cross-validation on the TRAIN part of train.jsonl alone (537 messages, one is
# 0.19 points): the messages most like those the parser is judged on.
TRAIN_MODEL_FLOORS = {"intent": 0.97, "category": 0.955}
TRAIN_PARSER_FLOORS = {"intent": 0.975, "category": 0.962, "urgency": 0.975, "when": 0.988}
# Five-fold cross-validation on the TRAIN part of train.jsonl and the dev set.
MODEL_FLOORS = {"intent": 0.975, "category": 0.965}
PARSER_FLOORS = {"intent": 0.98, "category": 0.97, "urgency": 0.968, "when": 0.988}
# The held-out TEST part (every fifth line of train.jsonl), scored by the shipped parser:
# 134 messages, so one message is 0.75 points.
TEST_PART_FLOORS = {"intent": 0.955, "category": 0.96, "urgency": 0.97, "when": 0.98}
# blind2, written from the contract before any parser error was read: 350 messages.
BLIND2_FLOORS = {"intent": 0.97, "category": 0.965, "urgency": 0.96, "when": 0.98}
# Any other slot, in every measure.
SLOTS_FLOOR = 0.99


@pytest.fixture(scope="module")
def cross_validation(parser: Parser) -> dict[str, Scores]:
    pytest.importorskip("sklearn")
    return cross_validate(parser)


@pytest.fixture(scope="module")
def train_cross_validation(parser: Parser) -> dict[str, Scores]:
    pytest.importorskip("sklearn")
    return cross_validate_train(parser).scores()


def test_train_part_cross_validates(train_cross_validation: dict[str, Scores]) -> None:
    model, whole = train_cross_validation["model"], train_cross_validation["parser"]
    low = {k: v for k, v in model.accuracy.items() if v < TRAIN_MODEL_FLOORS[k]}
    assert not low, model.report("model alone")
    low = {k: v for k, v in whole.accuracy.items() if v < TRAIN_PARSER_FLOORS.get(k, SLOTS_FLOOR)}
    assert not low, whole.report("whole parser")
    assert whole.recall >= 0.98 and whole.false_rate <= 0.01, whole.report("whole parser")
    for field in ("intent", "category"):  # the rules' part is no loss where they are unsure
        assert whole.accuracy[field] >= model.accuracy[field], field


def test_model_alone_cross_validates(cross_validation: dict[str, Scores]) -> None:
    model = cross_validation["model"]
    low = {k: v for k, v in model.accuracy.items() if v < MODEL_FLOORS[k]}
    assert not low, model.report("model alone")
    assert model.recall >= 0.95 and model.false_rate <= 0.025, model.report("model alone")


def test_whole_parser_cross_validates(cross_validation: dict[str, Scores]) -> None:
    whole = cross_validation["parser"]
    low = {k: v for k, v in whole.accuracy.items() if v < PARSER_FLOORS.get(k, SLOTS_FLOOR)}
    assert not low, whole.report("whole parser")
    assert whole.recall >= 0.97 and whole.false_rate <= 0.025, whole.report("whole parser")


def test_combination_beats_either_alone(cross_validation: dict[str, Scores]) -> None:
    whole, model, rules = (cross_validation[k] for k in ("parser", "model", "rules"))
    for field in ("intent", "category"):
        assert whole.accuracy[field] >= model.accuracy[field], field
        assert whole.accuracy[field] >= rules.accuracy[field], field
    assert whole.recall >= max(model.recall, rules.recall)


def test_held_out_test_part(parser: Parser) -> None:
    scores = evaluate_test_part(parser)
    report = scores.report("TEST part")
    for field, value in scores.accuracy.items():
        assert value >= TEST_PART_FLOORS.get(field, SLOTS_FLOOR), report
    assert scores.recall >= 0.93 and scores.false_rate <= 0.03, report


def test_blind2(parser: Parser) -> None:
    scores = held_out(parser, labelled.blind2())["parser"]
    report = scores.report("blind2")
    for field, value in scores.accuracy.items():
        assert value >= BLIND2_FLOORS.get(field, SLOTS_FLOOR), report
    assert scores.recall >= 0.94 and scores.false_rate <= 0.02, report


def test_the_held_out_sets_are_never_trained_on() -> None:
    """Neither the TEST part nor blind2 shares a message with anything the model or the
    rules are fitted to (the TEST part is compared in a set, never printed)."""
    trained = {row["text"] for row in training_rows()}
    assert not trained & {row["text"] for row in labelled.test_part()}
    assert not trained & {row["text"] for row in labelled.blind2()}


def test_our_own_messages_copy_no_labelled_message() -> None:
    """Our own messages are written from the contract, not rewritten from a shipped or
    held-out message: a rewrite in training would tell the cross-validation (or the TEST
    part, or blind2) its own answer. Only our own messages' ids are printed."""
    shipped = [row for _, row in labelled.numbered_rows(labelled.TRAIN_FILE)]
    own = own_rows()
    copies = labelled.near_copies(own, shipped + labelled.devset() + labelled.blind2())
    assert not copies, [own[i].get("id") for i in copies]


def test_a_rewrite_is_a_near_copy_and_a_stock_phrase_is_not() -> None:
    reference = [{"text": "我那个修水管的单子怎么样了 有没有人来啊"}, {"text": "在吗"}]
    rows = [
        {"text": "我那个修水管的单子怎么样了有没有人来"},  # rewritten
        {"text": "在吗？"},  # the same letters
        {"text": "修水管的单子有人接了吗"},  # a stock phrase, written anew
        {"text": "在不在"},
    ]
    assert labelled.near_copies(rows, reference) == [0, 1]


def test_packed_scores_are_exact(parser: Parser) -> None:
    """The packed integer sums give what summing the weights as floats gives."""
    import json

    from nlp.scorer import DEFAULT_WEIGHTS

    document = json.loads(DEFAULT_WEIGHTS.read_text("utf-8"))
    scorer = LinearScorer(document)
    column = 0
    for field in document["fields"]:
        head = document["heads"][field]
        texts = ["明天下午三点谁能陪我妈去医院", "水管爆了 快来人", "谢谢", "任务12办完了"]
        for text in texts:
            reading = parser.read(text)
            features = message_features(reading.clean, list(reading.signals.hits))
            sums = list(head["bias"])
            for feature in features:
                row = document["weights"].get(feature)
                if row:
                    for i in range(len(sums)):
                        sums[i] += row[column + i]
            top = max(sums)
            exps = [math.exp(s - top) for s in sums]
            best = head["classes"][sums.index(top)]
            guess = scorer.score(features)[field]
            assert guess.label == best
            assert guess.confidence == pytest.approx(max(exps) / sum(exps), abs=1e-9)
        column += len(head["classes"])


def test_scoring_a_message_agrees_with_its_features(parser: Parser) -> None:
    from nlp.labelled import devset
    from nlp.parser import _tags

    assert parser.model is not None
    for row in devset():
        reading = parser.read(row["text"])
        by_features = parser.model.score(parser.features(row["text"]))
        direct = parser.model.score_message(reading.clean, _tags(reading))
        for field in parser.model.fields:
            assert by_features[field].label == direct[field].label
            assert by_features[field].confidence == direct[field].confidence


def test_training_is_reproducible(parser: Parser) -> None:
    pytest.importorskip("sklearn")
    from nlp.labelled import devset
    from nlp.training import dump, featurise, fit

    rows = devset()[:160]
    features = featurise(parser, rows)
    assert dump(fit(features, rows)) == dump(fit(features, rows))


def test_runtime_needs_no_numpy_nor_sklearn() -> None:
    code = (
        "import sys\n"
        "from datetime import datetime\n"
        "from nlp import Parser\n"
        "Parser().parse('帮我买点菜', datetime(2026, 11, 23, 9))\n"
        "print(sorted({'numpy', 'scipy', 'sklearn'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


class _Guesses:
    """A stand-in for the scorer's answer with chosen probabilities."""

    def __init__(self, intent: dict[str, float], emergency: float = 0.0) -> None:
        self._guesses = {
            "intent": _guess(intent),
            "emergency": _guess({"yes": emergency, "no": 1 - emergency}),
        }

    def __getitem__(self, field: str) -> Guess:
        return self._guesses[field]

    def log_odds(self, field: str, label: str) -> float:
        chance = self._guesses[field].probability(label)
        return math.log(chance / (1 - chance))


def _guess(probabilities: dict[str, float]) -> Guess:
    classes = tuple(probabilities)
    return Guess(classes, [round(1000 * math.log(max(p, 1e-9))) for p in probabilities.values()])


UNSURE = {"request_help": 0.4, "unknown": 0.35, "complaint": 0.25}
FALLBACK = RuleIntent("unknown", "fallback")


def test_a_low_confidence_intent_is_not_sure() -> None:
    assert max(UNSURE.values()) < SURE
    assert choose_intent(FALLBACK, _Guesses(UNSURE), False) == ("request_help", False)  # type: ignore[arg-type]


def test_a_confident_intent_is_sure() -> None:
    sure = {"request_help": 0.9, "unknown": 0.1}
    assert choose_intent(FALLBACK, _Guesses(sure), False) == ("request_help", True)  # type: ignore[arg-type]


def test_a_possible_emergency_is_always_sure() -> None:
    # the scorer's own emergency head, where the detector saw no sign ...
    guesses = _Guesses(UNSURE, emergency=EMERGENCY + 0.05)
    assert is_emergency(guesses, None)  # type: ignore[arg-type]
    assert choose_intent(FALLBACK, guesses, True) == ("request_help", True)  # type: ignore[arg-type]
    # ... or the danger detector's sign
    danger = Danger(("fire",), "safety", now=True, over=False)
    assert is_emergency(_Guesses(UNSURE), danger)  # type: ignore[arg-type]


def test_what_may_be_an_emergency_is_never_asked() -> None:
    """A doubted sign, or a fair chance by the scorer, is enough to act at once."""
    doubted = Danger(("gas",), None, now=False, over=False)
    assert may_be_emergency(_Guesses(UNSURE), doubted)  # type: ignore[arg-type]
    assert may_be_emergency(_Guesses(UNSURE, emergency=MAYBE_EMERGENCY + 0.01), None)  # type: ignore[arg-type]
    assert not may_be_emergency(_Guesses(UNSURE, emergency=0.01), None)  # type: ignore[arg-type]


def test_the_detectors_doubt_is_final() -> None:
    """A sign the detector doubted (a worry, a past fire) is no emergency, however the
    scorer reads the words."""
    doubted = Danger(("fire",), None, now=False, over=False)
    assert not is_emergency(_Guesses(UNSURE, emergency=0.99), doubted)  # type: ignore[arg-type]


def test_a_guess_below_the_floor_with_no_cue_is_no_reading() -> None:
    best = GUESS_FLOOR - 0.02
    others = ("unknown", "rate_service", "accept_task", "request_help", "thanks")
    faint = {"complete_task": best} | {name: (1 - best) / len(others) for name in others}
    assert max(faint, key=faint.__getitem__) == "complete_task"
    assert choose_intent(FALLBACK, _Guesses(faint), False) == ("unknown", False)  # type: ignore[arg-type]


def test_commands_are_sure() -> None:
    command = RuleIntent("rate_service", "command")
    assert choose_intent(command, _Guesses(UNSURE), False) == ("rate_service", True)  # type: ignore[arg-type]


def test_a_cue_word_does_not_overrule_the_scorer() -> None:
    """取消 in 取消我接的任务 is the rules' word for cancelling, but a volunteer giving back a
    task declines it: the scorer's reading stands, and is unsure when the scorer is."""
    cue = RuleIntent("cancel_request", "cue")
    declines = {"decline_task": 0.55, "cancel_request": 0.45}
    assert choose_intent(cue, _Guesses(declines), False) == ("decline_task", False)  # type: ignore[arg-type]
    agreed = {"cancel_request": 0.55, "decline_task": 0.45}
    assert choose_intent(cue, _Guesses(agreed), False) == ("cancel_request", True)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["那个师傅", "我家那个事你们看着办吧"])
def test_vague_messages_ask_first(parse, text: str) -> None:
    assert parse(text).sure is False


@pytest.mark.parametrize("text", ["帮我买点菜", "谢谢", "任务12办完了", "家里着火了"])
def test_clear_messages_do_not(parse, text: str) -> None:
    assert parse(text).sure is True
