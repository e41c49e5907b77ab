"""The segmenter's own route must cut exactly as jieba's get_DAG + calc would."""

from __future__ import annotations

import random

from nlp import Parser


def jieba_route(tokenizer, run: str) -> list[str]:  # type: ignore[no-untyped-def]
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(run, tokenizer.get_DAG(run), route)
    words, start = [], 0
    while start < len(run):
        stop = route[start][1] + 1
        words.append(run[start:stop])
        start = stop
    return words


def test_cuts_like_jieba(parser: Parser) -> None:
    segmenter = parser._segmenter
    tokenizer = segmenter.tokenizer
    words = sorted(w for w, freq in tokenizer.FREQ.items() if freq)
    chars = sorted({ch for w in words for ch in w} | set("的了吗啊我你她"))
    rnd = random.Random(20261123)  # fixed, so a failure can be replayed
    runs = ["明天下午三点谁能陪我妈去医院", "接不了", "医院门口那家店买保温杯", "我来接孩子"]
    for _ in range(3000):
        # Mostly whole lexicon words glued together, where overlaps and ties happen.
        pieces = [rnd.choice(words) if rnd.random() < 0.7 else rnd.choice(chars) for _ in range(6)]
        runs.append("".join(pieces))
    for run in runs:
        want = jieba_route(tokenizer, run)
        # The forward walk, which hands over to the scored route at a choice, and the
        # scored route on its own, over whole runs.
        assert segmenter._segment(run) == want, run
        assert segmenter._route(run) == want, run
