"""Logging set-up: one format, and no full phone number ever reaches a log line."""

from __future__ import annotations

import logging
from typing import TextIO

from storage.redact import mask_phones

_TRACEBACKS = logging.Formatter()


class PhoneMask(logging.Filter):
    """Rewrites each record's message with phone numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # A traceback can quote a statement's parameters; the formatter uses this text.
            record.exc_text = mask_phones(_TRACEBACKS.formatException(record.exc_info))
        return True


def setup_logging(level: str, stream: TextIO | None = None) -> logging.Handler:
    """Log to stderr (or `stream`) at `level` through the phone mask."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PhoneMask())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # The driver logs every statement with its parameters at DEBUG: too much, even masked.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # APScheduler reports every run of the two-second sweep at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler
