"""One Parser per test session: building it is the slow part, parsing is pure."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from nlp import Parse, Parser

# The dev set's labels assume this --now: Monday 23 November 2026, 09:00 local time.
NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture(scope="session")
def jieba_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private jieba cache directory for this session."""
    return tmp_path_factory.mktemp("jieba-cache")


@pytest.fixture(scope="session")
def parser(jieba_cache: Path) -> Parser:
    """The shared parser (never given compounds; tests that need them build their own)."""
    return Parser(cache_dir=jieba_cache)


@pytest.fixture(scope="session")
def parse(parser: Parser):  # type: ignore[no-untyped-def]
    """parse(text) at NOW."""

    def run(text: str) -> Parse:
        return parser.parse(text, NOW)

    return run
