"""A jieba tokenizer over a compact dictionary made of the lexicon's own words."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Every lexicon word gets the same weight, so jieba prefers the segmentation with the
# fewest pieces: 接不了 beats 我接 + 不 + 了, 医院门口 beats 医院 + 门口.
_WORD_FREQ = 10_000
# Runs of Chinese go to jieba; runs of anything else are split into ASCII words and the rest.
_RUNS = re.compile(r"([\u4e00-\u9fff]+)|([a-z0-9]+)|([^\u4e00-\u9fffa-z0-9]+)")
# What the prefix table gives for a piece that is neither a word nor a prefix of one.
_ABSENT: Any = object()


class Segmenter:
    """Owns one jieba.Tokenizer whose dictionary holds only the words the parser looks for."""

    def __init__(self, words: Iterable[str], cache_dir: Path | None = None) -> None:
        import jieba  # imported here so importing nlp loads nothing

        # jieba logs every dictionary load at DEBUG to stderr; the server has its own logs.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        directory = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir())
        directory.mkdir(parents=True, exist_ok=True)
        # ASCII runs (wifi, 120, 1205) are kept whole by `cut` before jieba sees them; as
        # dictionary words they would only cut longer runs apart (1205 -> 120 + 5).
        chinese = sorted({w for w in words if w and not any(ch.isascii() for ch in w)})
        path = _write_dictionary(chinese, directory)
        tokenizer: Any = jieba.Tokenizer(str(path))
        tokenizer.tmp_dir = str(directory)
        tokenizer.initialize()
        self.tokenizer = tokenizer
        # jieba's prefix dictionary (every word and every prefix of a word), with each word's
        # score as jieba's `calc` computes it, log(freq) - log(total), and None for a mere
        # prefix; so the route below adds the very same floats and picks the same one.
        logtotal = math.log(tokenizer.total)
        self._table: dict[str, float | None] = {
            piece: math.log(freq) - logtotal if freq else None
            for piece, freq in tokenizer.FREQ.items()
        }
        self._unknown = math.log(1) - logtotal  # a character that is no word counts as freq 1

    def cut(self, text: str) -> list[str]:
        """The text's words, in order and covering it exactly: lexicon words kept whole."""
        tokens: list[str] = []
        for chinese, ascii_word, other in _RUNS.findall(text):
            if chinese:
                tokens.extend(self._segment(chinese))
            else:
                tokens.append(ascii_word or other)
        return tokens

    def _segment(self, run: str) -> list[str]:
        """jieba's best route (get_DAG + calc, no HMM) through one run of Chinese characters.

        Kept by measurement: jieba's own `Tokenizer.cut(run, HMM=False)` gives the same tokens
        but makes a whole parse about 37% slower (0.096 against 0.070 ms per message of the
        webhook's real mix); that is under 1% of the server's CPU there, but the parser's own
        throughput target (bench/bench_parse.py, 10,000 msg/s) has no such margin.

        Where only one dictionary word starts (or none, and the lone character is taken)
        the route has no choice, whatever the scores; most positions it reaches are like
        that, so it is walked forward from the start. At the first position with a choice
        the scores decide, and `_route` works out the rest of the run: jieba scores a
        position from the end of the run, so the rest scores the same on its own.
        """
        lookup = self._table.get
        n = len(run)
        words = []
        i = 0
        while i < n:
            end = 0  # where the one word starting at i ends, once found
            j = i + 1
            score = lookup(run[i], _ABSENT)
            while score is not _ABSENT:  # run[i:j] is a word or a prefix of one
                if score is not None:
                    if end:
                        words.extend(self._route(run[i:]))
                        return words
                    end = j
                j += 1
                if j > n:
                    break
                score = lookup(run[i:j], _ABSENT)
            end = end or i + 1
            words.append(run[i:end])
            i = end
        return words

    def _route(self, run: str) -> list[str]:
        """jieba's route by its scores: get_DAG and calc in one backward pass.

        jieba builds a dict of word ends per position, then scores each position with a
        generator; here both happen in one pass, and a character that starts no dictionary
        word (a third of them, as the dictionary is the lexicon's) takes a short cut.
        """
        lookup, unknown = self._table.get, self._unknown
        n = len(run)
        best = [0.0] * (n + 1)  # best[i]: score of the best route through run[i:]
        stop = list(range(1, n + 2))  # stop[i]: where the first word of that route ends
        for i in range(n - 1, -1, -1):
            score = lookup(run[i], _ABSENT)
            if score is _ABSENT:
                best[i] = unknown + best[i + 1]
                continue
            # Like jieba: every dictionary word starting here, or the lone character if none.
            top, end = -math.inf, i + 1
            j = i + 1
            while True:
                if score is not None:  # run[i:j] is a word, not just a prefix of one
                    total = score + best[j]
                    if total >= top:  # jieba's max() over (score, end) prefers the later end
                        top, end = total, j
                j += 1
                if j > n:
                    break
                score = lookup(run[i:j], _ABSENT)
                if score is _ABSENT:
                    break
            if top == -math.inf:
                top = unknown + best[i + 1]
            best[i], stop[i] = top, end
        words = []
        i = 0
        while i < n:
            words.append(run[i : stop[i]])
            i = stop[i]
        return words


def _write_dictionary(words: list[str], directory: Path) -> Path:
    """Write the dictionary once per distinct content, so jieba's own cache stays valid."""
    body = "".join(f"{word} {_WORD_FREQ}\n" for word in words).encode("utf-8")
    path = directory / f"jinlin-nlp-{hashlib.sha256(body).hexdigest()[:16]}.dict"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
    return path
