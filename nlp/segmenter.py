"""A jieba tokenizer over a compact dictionary made of the lexicon's own words."""

from __future__ import annotations

import hashlib
import logging
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

    def cut(self, text: str) -> list[str]:
        """The text's words, in order and covering it exactly: lexicon words kept whole."""
        # jieba's own DAG and route over each Chinese run, without lcut's generator layers
        # and per-word regex checks, which cost more than the segmentation itself here.
        get_dag, calc = self.tokenizer.get_DAG, self.tokenizer.calc
        tokens: list[str] = []
        for match in _RUNS.finditer(text):
            run = match.group()
            if not match.group(1):
                tokens.append(run)
                continue
            route: dict[int, tuple[float, int]] = {}
            calc(run, get_dag(run), route)
            start, end = 0, len(run)
            while start < end:
                stop = route[start][1] + 1
                tokens.append(run[start:stop])
                start = stop
        return tokens


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
