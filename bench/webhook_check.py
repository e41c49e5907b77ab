"""After the webhook benchmark: was every help request stored, and offered or escalated?"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlmodel import col

from storage import relevance
from storage.db import open_database
from storage.models import HelpRequest, Offer, OutboxMessage, ProcessedMessage, Status


@dataclass(frozen=True)
class Stored:
    receipts: int  # replies that gave a help request's number
    messages: int  # message keys recorded
    requests: int  # help requests stored
    offered: int  # offered, with an offer queued for a volunteer the account reaches
    escalated: int  # escalated, with the workers told
    neither: int  # anything else: a request that went nowhere

    @property
    def ok(self) -> bool:
        # Requests cut off by the end of a run are stored without their receipt being counted.
        return self.requests > 0 and self.requests >= self.receipts and self.neither == 0

    def line(self) -> str:
        return (
            f"stored      {self.messages} messages, {self.requests} help requests "
            f"({self.receipts} receipts with a number): "
            f"{self.offered} offered to reachable volunteers, {self.escalated} escalated, "
            f"{self.neither} neither"
        )


async def check(url: str, receipts: int) -> Stored:
    """Count what the database holds after a run."""
    db = open_database(url)
    try:
        async with db.transaction() as session:
            messages = await session.scalar(select(func.count()).select_from(ProcessedMessage))
            told = exists().where(
                col(OutboxMessage.request_id) == HelpRequest.id,
                col(OutboxMessage.purpose).in_((relevance.OFFER, relevance.ESCALATION)),
            )
            offered = exists().where(
                and_(col(Offer.request_id) == HelpRequest.id, col(Offer.outcome).is_(None))
            )
            rows = await session.execute(
                select(col(HelpRequest.status), offered, told, func.count()).group_by(
                    col(HelpRequest.status), offered, told
                )
            )
            counts = {"offered": 0, "escalated": 0, "neither": 0}
            for status, has_offers, was_told, n in rows:
                if status == Status.OFFERED and has_offers and was_told:
                    counts["offered"] += n
                elif status == Status.ESCALATED and was_told:
                    counts["escalated"] += n
                else:
                    counts["neither"] += n
    finally:
        await db.close()
    return Stored(receipts, int(messages or 0), sum(counts.values()), **counts)
