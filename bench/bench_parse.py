"""Start-up time and throughput of nlp.Parser, against bare jieba + OpenCC as a reference.

Run from the repository root:  .venv/bin/python bench/bench_parse.py [--count 10000] [--rounds 7]

Throughput is timed in rounds; each round runs the parser and then the reference over the
same messages, so both see the same load on a shared machine, and the medians over the
rounds are reported with the median of the per-round ratios. The verdict is on wall-clock
time; the rate by the process's own CPU time is printed beside it, since other processes
on a shared machine slow the first but hardly the second. The messages are every distinct
text of the labelled data the repository ships (the dev set, train.jsonl, our own written
messages and the team's older set), repeated: the parser keeps no per-text cache
(tests/nlp/test_nlp_input.py checks it), so a repeated text costs what a new one does;
the first pass over the distinct texts is reported as well, as a check on that.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# Every labelled file the repository ships.
SHIPPED = [*sorted((REPO / "tests/fixtures/nlp").glob("*.jsonl")), REPO / "tests/nlp/heldout.jsonl"]
NOW = datetime(2026, 11, 23, 9, 0)
TARGET_RATE = 10_000  # messages per second, one process, after start-up
TARGET_WARM = 1.5  # seconds to construct a Parser with a warm jieba cache

# Runs in a fresh interpreter: import plus construction, as a server start-up pays them.
STARTUP = """
import sys, time
t = time.perf_counter()
sys.path.insert(0, {repo!r})
from pathlib import Path
from nlp import Parser
Parser(cache_dir=Path({cache!r}))
print(time.perf_counter() - t)
"""


def distinct_texts() -> list[str]:
    """Every distinct text of the shipped labelled data, in a fixed order."""
    texts = {
        json.loads(line)["text"]
        for path in SHIPPED
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    }
    return sorted(texts)


def startup(cache: Path) -> float:
    """Seconds a fresh interpreter takes to import nlp and build a Parser."""
    code = STARTUP.format(repo=str(REPO), cache=str(cache))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def rate(run: Callable[[str], object], batch: list[str]) -> tuple[float, float]:
    """Messages per second over one pass of the batch: by wall clock, and by CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    for text in batch:
        run(text)
    return len(batch) / (time.perf_counter() - wall), len(batch) / (time.process_time() - cpu)


def summary(rates: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall-clock and median CPU-time rates over the rounds."""
    return statistics.median(r[0] for r in rates), statistics.median(r[1] for r in rates)


def spread(rates: list[tuple[float, float]]) -> str:
    """The lowest and highest wall-clock rate of the rounds."""
    return f"{min(r[0] for r in rates):,.0f}..{max(r[0] for r in rates):,.0f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    """Measure and print start-up and throughput figures with the targets."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--count", type=int, default=5_000, help="messages per pass")
    args.add_argument("--rounds", type=int, default=11, help="timed rounds (median reported)")
    opts = args.parse_args()

    with tempfile.TemporaryDirectory(prefix="jinlin-bench-") as tmp:
        cache = Path(tmp)
        cold = startup(cache)
        warm = statistics.median(startup(cache) for _ in range(5))

        import jieba
        import opencc

        from nlp import Parser

        logging.getLogger("jieba").setLevel(logging.WARNING)
        parser = Parser(cache_dir=cache)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = tmp
        tokenizer.initialize()
        convert = opencc.OpenCC("t2s").convert

        def ours(text: str) -> object:
            return parser.parse(text, NOW)

        def reference(text: str) -> object:
            return tokenizer.lcut(convert(text))

        texts = distinct_texts()
        first_sight, _ = rate(ours, texts)  # every text new to this parser
        batch = (texts * (opts.count // len(texts) + 1))[: opts.count]
        rate(ours, batch[:2000])  # warm-up: allocator, branch caches
        rate(reference, batch[:2000])
        ours_rates, reference_rates = [], []
        for _ in range(opts.rounds):
            ours_rates.append(rate(ours, batch))
            reference_rates.append(rate(reference, batch))

    ours_wall, ours_cpu = summary(ours_rates)
    reference_wall, reference_cpu = summary(reference_rates)
    ratio = statistics.median(o[0] / r[0] for o, r in zip(ours_rates, reference_rates, strict=True))
    print(f"messages per pass:    {len(batch)} ({len(texts)} distinct), {opts.rounds} rounds")
    print(f"start-up, cold cache: {cold:.3f} s")
    print(
        f"start-up, warm cache: {warm:.3f} s   target < {TARGET_WARM} s   {verdict(warm < TARGET_WARM)}"
    )
    print(
        f"Parser.parse:         {ours_wall:,.0f} msg/s median (rounds {spread(ours_rates)})"
        f"   target >= {TARGET_RATE:,}   {verdict(ours_wall >= TARGET_RATE)}"
    )
    print(f"  by CPU time:        {ours_cpu:,.0f} msg/s median")
    print(f"  first pass over the distinct texts: {first_sight:,.0f} msg/s")
    print(
        f"reference:            {reference_wall:,.0f} msg/s median (rounds {spread(reference_rates)})"
        " - jieba lcut, default dictionary, + OpenCC t2s"
    )
    print(f"  by CPU time:        {reference_cpu:,.0f} msg/s median")
    print(f"ratio to reference:   {ratio:.2f} (median of per-round ratios)")


if __name__ == "__main__":
    main()
