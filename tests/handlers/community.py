"""A small community for conversation tests: Jinlin on loopback, volunteers, admins, residents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.web.keys import DATABASE
from storage import org, requests, users, volunteers
from storage.db import Database
from storage.models import HelpRequest, OutboxMessage, RequestEvent, User
from storage.types import utcnow
from tests.conftest import make_config
from tests.servers import Running, jinlin

ADMIN = "oAdmin"
COMPOUNDS = ("阳光花园", "幸福里")


@dataclass
class Community:
    server: Running

    @property
    def db(self) -> Database:
        return self.server.app[DATABASE]

    async def say(self, openid: str, text: str) -> str:
        """Send a text as `openid`; the passive reply's text ('' for none)."""
        answer = await self.server.wechat.text(openid, text)
        assert answer.status == 200, answer.body
        return answer.content or ""

    async def told(self, openid: str) -> list[str]:
        """Everything queued for `openid` besides passive replies, oldest first."""
        async with self.db.transaction() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.openid == openid)
                .order_by(OutboxMessage.id)
            )
            return [row.text for row in rows]

    async def request(self, number: int) -> HelpRequest:
        async with self.db.transaction() as session:
            return await requests.get(session=session, number=number)

    async def history(self, number: int) -> list[RequestEvent]:
        async with self.db.transaction() as session:
            return await requests.history(session=session, number=number)

    async def outbox(self, openid: str) -> list[OutboxMessage]:
        """The outbox rows queued for `openid`, with what became of them, oldest first."""
        async with self.db.transaction() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.openid == openid)
                .order_by(OutboxMessage.id)
            )
            return list(rows)

    async def away(self, openid: str, hours: float = 49) -> None:
        """`openid` last wrote `hours` ago: outside WeChat's 48-hour window by default."""
        async with self.db.transaction() as session:
            await session.execute(
                update(User)
                .where(User.openid == openid)
                .values(last_interaction_at=utcnow() - timedelta(hours=hours))
            )

    async def volunteer(self, openid: str, name: str, skills: Sequence[str], **how: Any) -> None:
        """Register a volunteer directly (sign-up in chat has tests of its own)."""
        await register_volunteer(self.db, openid, name, skills, **how)
        if how.get("wrote", True):  # WeChat knows of the message that opened their window
            self.server.standin.interact(openid)


async def register_volunteer(
    db: Database,
    openid: str,
    name: str,
    skills: Sequence[str],
    *,
    compound: str = "阳光花园",
    building: str = "3",
    availability: Sequence[str] = ("anytime",),
    community: str = "示范社区",
    phone: str | None = None,
    task_limit: int = 2,
    wrote: bool = True,
) -> None:
    """A volunteer as an import would make one: a user, a place, and the volunteer record;
    unless `wrote`, one who never wrote to the account (no 48-hour window open)."""
    async with db.transaction() as session:
        place = await org.ensure_place(
            session=session, street="示范街道", community=community, compound=compound
        )
        arrived = await users.touch(
            session=session, arrivals={openid: "message" if wrote else None}, at=utcnow()
        )
        user = await users.by_id(session=session, user_id=arrived[openid].id)
        await volunteers.sign_up(
            session=session,
            user=user,
            name=name,
            phone=phone,
            skills=skills,
            compound_id=place.compound_id,
            building=building,
            availability=availability,
            task_limit=task_limit,
        )


@asynccontextmanager
async def community(db_url: str, parser: Any, **config: dict[str, Any]) -> AsyncIterator[Community]:
    """A running server for a street with two compounds of one community, and an admin."""
    settings = make_config(
        database={"url": db_url},
        admin={"openids": [ADMIN]},
        org={
            "street": "示范街道",
            "community": "示范社区",
            "compounds": list(COMPOUNDS),
            **config.pop("org", {}),
        },
        **config,
    )
    async with jinlin(settings, parser) as server:
        yield Community(server)
