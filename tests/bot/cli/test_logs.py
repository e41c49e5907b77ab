"""Logs never hold a full phone number, whoever logs it."""

from __future__ import annotations

import io
import logging

from bot.cli.logs import setup_logging
from storage.redact import mask, mask_phones


def test_phone_numbers_are_masked_in_every_log_line() -> None:
    out = io.StringIO()
    handler = setup_logging("INFO", out)
    try:
        logging.getLogger("anything").warning("call %s or 139-1234-5678", "13912345678")
        logging.getLogger("else").info("text with 138 1234 5678 inside")
    finally:
        logging.getLogger().removeHandler(handler)
    text = out.getvalue()
    assert "13912345678" not in text and "1234" not in text
    assert text.count("****") == 3


def test_masking_helpers() -> None:
    assert mask_phones("电话13912345678") == "电话139****5678"
    assert mask_phones("订单号 2026112312345678") == "订单号 2026112312345678"
    assert mask("oAbcdefghijklmn") == "oAbc…klmn"


def test_phone_numbers_in_tracebacks_are_masked() -> None:
    out = io.StringIO()
    handler = setup_logging("INFO", out)
    try:
        try:
            raise ValueError("insert failed with parameters ('13912345678',)")
        except ValueError:
            logging.getLogger("anything").exception("handling a message failed")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "ValueError" in out.getvalue() and "13912345678" not in out.getvalue()
