"""`jinlin broadcast send` and `jinlin broadcast list`: notices from the command line.

The notice is stored here; the scheduler process (`jinlin serve` or `jinlin worker`) sends it.
An operator's command reaches the whole database (no scope).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core.config import Config
from bot.runtime import prepare_database
from handlers.broadcast import rules_for
from storage import audience, broadcasts
from storage.audience import EVERYWHERE, AudienceError, AudienceSpec
from storage.db import Database, open_database
from storage.errors import InvalidInput
from storage.types import utcnow

TEXT_SHOWN = 24  # characters of a notice's text in the list


def parse_at(value: str, tz: ZoneInfo, now: datetime) -> datetime:
    """--at as a tz-aware UTC time: "2026-12-01 08:00" (local), ISO 8601, or "08:00" (the next
    such time of day)."""
    text = value.strip()
    try:
        clock = time.fromisoformat(text)
    except ValueError:
        clock = None
    if clock is not None:
        local_now = now.astimezone(tz)
        at = datetime.combine(local_now.date(), clock, tzinfo=tz)
        return (at if at > local_now else at + timedelta(days=1)).astimezone(ZoneInfo("UTC"))
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f'--at: not a time: {value!r} (write it like "2026-12-01 08:00" or "08:00")'
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    if at < now - timedelta(minutes=1):
        raise InvalidInput(f"--at: {value} is in the past")
    return at.astimezone(ZoneInfo("UTC"))


async def send(config: Config, spec: AudienceSpec, text: str, at: str | None, out: TextIO) -> int:
    """Store a notice to the audience `spec` names; print its audience and number."""
    now = utcnow()
    tz = config.org.tz
    send_at = parse_at(at, tz, now) if at else None
    text = text.strip()
    if not text:
        raise InvalidInput("--text is empty")
    if len(text) > broadcasts.MAX_TEXT:
        raise InvalidInput(f"--text is {len(text)} characters, at most {broadcasts.MAX_TEXT}")
    db = await _open(config)
    try:
        async with db.transaction() as session:
            try:
                chosen = await audience.resolve(session=session, spec=spec, scope=EVERYWHERE)
            except AudienceError as exc:
                raise InvalidInput(exc.en) from None
            rules = await rules_for(session, config)
            seen = await broadcasts.preview(
                session=session, audience=chosen, scope=EVERYWHERE, rules=rules, now=now
            )
            notice = await broadcasts.create_broadcast(
                session=session,
                text=text,
                audience=chosen,
                scope=EVERYWHERE,
                rules=rules,
                created_by="cli",
                now=now,
                send_at=send_at,
            )
    finally:
        await db.close()
    out.write(f"audience: {seen.count} recipients ({chosen.label})")
    out.write(f", {seen.opted_out} opted out\n" if seen.opted_out else "\n")
    for warning in seen.warnings:
        out.write(f"warning: {warning.en}\n")
    when = "now" if send_at is None else f"at {send_at.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"
    out.write(
        f"notice {notice.id} will be sent {when} by the scheduler (`jinlin serve` or "
        "`jinlin worker`)\n"
    )
    return 0


async def list_all(config: Config, out: TextIO) -> int:
    """Print every notice, newest first, with its progress."""
    tz = config.org.tz
    db = await _open(config)
    try:
        async with db.transaction() as session:
            rows = await broadcasts.list_broadcasts(session=session, scope=EVERYWHERE, limit=1000)
    finally:
        await db.close()
    if not rows:
        out.write("no notices yet\n")
        return 0
    out.write(
        f"{'notice':>6}  {'state':<9}  {'send at':<16}  {'sent':>6}  {'failed':>6}  "
        f"{'pending':>7}  {'skipped':>7}  audience / text\n"
    )
    for p in rows:
        shown = p.text if len(p.text) <= TEXT_SHOWN else p.text[: TEXT_SHOWN - 1] + "…"
        shown = " ".join(shown.split())
        out.write(
            f"{p.id:>6}  {p.state:<9}  {p.send_at.astimezone(tz):%Y-%m-%d %H:%M}  "
            f"{p.sent:>6}  {p.failed:>6}  {p.pending:>7}  {p.skipped:>7}  {p.label} / {shown}\n"
        )
    return 0


async def _open(config: Config) -> Database:
    # As a server starts: SQLite migrated, PostgreSQL checked, the configured places known.
    db = open_database(config.database.url)
    try:
        await prepare_database(db, config)
    except BaseException:
        await db.close()
        raise
    return db
