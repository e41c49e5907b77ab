"""`jinlin parse`: the message parser on JSON lines (shared/spec/nlp.md)."""

from __future__ import annotations

import io
import sys

from nlp import Parser
from nlp.jsonl import parse_lines, parse_now
from storage.errors import InvalidInput


def parse(file: str | None, now_text: str | None) -> int:
    """Parse each JSON line of `file` (standard input without one) and print the results."""
    try:
        now = parse_now(now_text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    parser = Parser()
    # JSON can spell a lone surrogate ("\ud800"), which UTF-8 cannot carry: written back as
    # the same escape, the output line stays the JSON it would have been.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        source = open(file, encoding="utf-8") if file else sys.stdin  # noqa: SIM115
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        for line in parse_lines(source, parser, now):
            print(line, flush=False)
    except UnicodeDecodeError:
        # Lines are read as they are parsed: what came before is already printed.
        raise InvalidInput(
            f"{file or 'standard input'} is not UTF-8 text: save it as UTF-8"
        ) from None
    finally:
        if source is not sys.stdin:
            source.close()
    sys.stdout.flush()
    return 0
