"""What the console's reports are computed from: the requests of a period, a few fields each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import HelpRequest


@dataclass(frozen=True, slots=True)
class Fact:
    """One request as the reports count it."""

    category: str
    status: str
    created_at: datetime
    accepted_at: datetime | None
    done_at: datetime | None
    score: int | None
    credited_minutes: int | None


async def facts(
    *, session: AsyncSession, where: ColumnElement[bool], since: datetime
) -> list[Fact]:
    """The requests inside `where` created since `since`, oldest first."""
    rows = await session.execute(
        select(
            col(HelpRequest.category),
            col(HelpRequest.status),
            col(HelpRequest.created_at),
            col(HelpRequest.accepted_at),
            col(HelpRequest.done_at),
            col(HelpRequest.score),
            col(HelpRequest.credited_minutes),
        )
        .where(where, col(HelpRequest.created_at) >= since)
        .order_by(col(HelpRequest.created_at))
    )
    return [Fact(*row) for row in rows.all()]
