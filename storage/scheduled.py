"""Runs of periodic jobs, claimed once across every process."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ScheduledRun
from storage.sql import affected, insert_for


async def claim(*, session: AsyncSession, key: str) -> bool:
    """True for the one caller that records `key` first (e.g. "digest:2026-11-23")."""
    stmt = insert_for(session, ScheduledRun).values(key=key).on_conflict_do_nothing()
    return await affected(session, stmt) == 1
