"""Normalisation skips OpenCC for messages it would leave alone; that must change nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import opencc
import pytest

from nlp import Parser
from nlp.normalize import Normalizer

HELDOUT = Path(__file__).with_name("heldout.jsonl")
OPENCC_DATA = Path(opencc.__file__).parent / "clib"


@pytest.fixture(scope="module")
def normalizer(parser: Parser) -> Normalizer:
    return parser._normalize


def test_phrase_only_changes_are_still_converted(normalizer: Normalizer) -> None:
    # Each character here is simplified on its own; only the phrase is converted.
    assert normalizer("土坏") == "土坯"
    assert normalizer("找藉口") == "找借口"
    assert normalizer("沈默") == "沉默"
    assert normalizer("瞭解") == "了解"


def test_skipped_messages_are_ones_opencc_leaves_alone(normalizer: Normalizer) -> None:
    convert = opencc.OpenCC("t2s").convert
    s2t = opencc.OpenCC("s2t").convert
    texts = [json.loads(line)["text"] for line in HELDOUT.read_text("utf-8").splitlines() if line]
    skipped = 0
    for text in texts + [s2t(text) for text in texts]:
        if not normalizer._convertible.search(text):
            skipped += 1
            assert convert(text) == text
    assert skipped > len(texts) / 2


def _dictionary_files(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["file"]] if node.get("type") == "ocd2" else []
        return found + [f for value in node.values() for f in _dictionary_files(value)]
    if isinstance(node, list):
        return [f for value in node for f in _dictionary_files(value)]
    return []


def test_every_key_opencc_changes_holds_a_convertible_character(
    normalizer: Normalizer, tmp_path: Path
) -> None:
    """Guards _PHRASE_ONLY and the scanned planes against the installed OpenCC's dictionaries.

    A text without a convertible character is then made of keys that convert to themselves
    and of characters that do, which is all OpenCC's longest-match conversion does.
    """
    dump = OPENCC_DATA / "bin/opencc_dict"
    if not dump.exists():
        pytest.skip("this OpenCC build ships no opencc_dict to list its dictionaries")
    share = OPENCC_DATA / "share/opencc"
    convert = opencc.OpenCC("t2s").convert
    files = _dictionary_files(json.loads((share / "t2s.json").read_text("utf-8")))
    assert files
    for name in files:
        out = tmp_path / f"{name}.txt"
        command = [str(dump), "-i", str(share / name), "-o", str(out), "-f", "ocd2", "-t", "text"]
        subprocess.run(command, check=True, capture_output=True)
        for line in out.read_text("utf-8").splitlines():
            key = line.split("\t")[0]
            if convert(key) != key:
                assert normalizer._convertible.search(key), (name, key)
