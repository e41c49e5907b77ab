"""A broadcasting rig: a real database, the stand-in for WeChat on loopback, a client and an
engine on the stand-in's clock (sleeping moves it), and a street of people to send to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.broadcasting.engine import BroadcastEngine
from bot.core.config import Config
from bot.simulator.standin import STANDIN, StandinState, create_standin
from bot.wechat.client import WeChatClient
from handlers.broadcast import rules_for
from storage import audience, broadcasts, org
from storage.audience import EVERYWHERE, AudienceSpec, Scope
from storage.db import Database
from storage.models import BroadcastDelivery, User
from tests.conftest import make_config
from tests.servers import serving

STREET, COMMUNITY = "示范街道", "示范社区"
COMPOUNDS = ("阳光花园", "幸福里")


@dataclass
class Rig:
    db: Database
    standin: StandinState
    client: WeChatClient
    config: Config
    engines: list[BroadcastEngine] = field(default_factory=list)

    def now(self) -> datetime:
        return self.standin.now()

    async def sleep(self, seconds: float) -> None:
        self.standin.advance(seconds)

    def engine(self) -> BroadcastEngine:
        """An engine (one per server process) on the stand-in's clock."""
        made = BroadcastEngine(self.db, self.client, self.config, clock=self.now, sleep=self.sleep)
        self.engines.append(made)
        return made

    async def person(self, openid: str, *args: Any, **fields: Any) -> None:
        """A follower living in a compound (see add_person)."""
        await add_person(self.db, openid, self.now(), *args, **fields)

    async def people(self, openids: Sequence[str], **how: Any) -> None:
        for openid in openids:
            await self.person(openid, **how)

    async def notice(
        self,
        text: str = "明天上午停水",
        spec: AudienceSpec | None = None,
        scope: Scope = EVERYWHERE,
        **how: Any,
    ) -> int:
        """A notice stored as the console, CLI or chat would; its id."""
        async with self.db.transaction() as session:
            chosen = await audience.resolve(
                session=session, spec=spec or AudienceSpec(), scope=scope
            )
            made = await broadcasts.create_broadcast(
                session=session,
                text=text,
                audience=chosen,
                scope=scope,
                rules=await rules_for(session, self.config),
                created_by="test",
                now=self.now(),
                **how,
            )
        assert made.id is not None
        return made.id

    async def rules(self) -> broadcasts.Rules:
        async with self.db.transaction() as session:
            return await rules_for(session, self.config)

    async def preview(
        self, spec: AudienceSpec | None = None, scope: Scope = EVERYWHERE
    ) -> broadcasts.Preview:
        """What the composer would show for `spec` now."""
        async with self.db.transaction() as session:
            chosen = await audience.resolve(
                session=session, spec=spec or AudienceSpec(), scope=scope
            )
            return await broadcasts.preview(
                session=session,
                audience=chosen,
                scope=scope,
                rules=await rules_for(session, self.config),
                now=self.now(),
            )

    async def change(self, openid: str, **values: Any) -> None:
        """Change a user's fields directly."""
        async with self.db.transaction() as session:
            await session.execute(update(User).where(User.openid == openid).values(**values))

    async def progress(self, broadcast_id: int) -> broadcasts.Progress:
        async with self.db.transaction() as session:
            return await broadcasts.progress(
                session=session, broadcast_id=broadcast_id, scope=EVERYWHERE
            )

    async def states(self, broadcast_id: int) -> dict[str, str]:
        """Each recipient's delivery state."""
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(BroadcastDelivery.openid, BroadcastDelivery.state).where(
                    BroadcastDelivery.broadcast_id == broadcast_id
                )
            )
            return {openid: state for openid, state in rows}

    def received(self) -> dict[str, int]:
        """How many mass or customer-service messages each openid got from the stand-in."""
        counts: dict[str, int] = {}
        for message in self.standin.messages():
            counts[message.openid] = counts.get(message.openid, 0) + 1
        return counts

    def mass_calls(self) -> list[dict[str, Any]]:
        bodies = self.standin.bodies
        return [*bodies["/cgi-bin/message/mass/sendall"], *bodies["/cgi-bin/message/mass/send"]]


async def add_person(
    db: Database,
    openid: str,
    now: datetime,
    compound: str | None = "阳光花园",
    building: str | None = "3",
    *,
    community: str = COMMUNITY,
    **fields: Any,
) -> None:
    """A follower who last wrote at `now`, living in `compound` (None: never said where)."""
    async with db.transaction() as session:
        compound_id = None
        if compound is not None:
            place = await org.ensure_place(
                session=session, street=STREET, community=community, compound=compound
            )
            compound_id = place.compound_id
        values = {"last_interaction_at": now, "last_interaction_kind": "message"}
        session.add(
            User(
                openid=openid,
                compound_id=compound_id,
                building=building if compound else None,
                **{**values, **fields},
            )
        )


@asynccontextmanager
async def rig(db: Database, db_url: str, **config: dict[str, Any]) -> AsyncIterator[Rig]:
    """The rig for `db`, with config sections changed as given."""
    app = create_standin("wx0000000000000000", "")
    state = app[STANDIN]
    async with serving(app) as api:
        settings = make_config(
            database={"url": db_url},
            wechat={"api_base_url": api, **config.pop("wechat", {})},
            org={"street": STREET, "community": COMMUNITY, "compounds": list(COMPOUNDS)},
            **config,
        )
        async with db.transaction() as session:
            for compound in COMPOUNDS:
                await org.ensure_place(
                    session=session, street=STREET, community=COMMUNITY, compound=compound
                )
        client = WeChatClient(settings.wechat, db, clock=state.now, sleep=lambda s: _no_wait())
        async with client:
            yield Rig(db, state, client, settings)


async def _no_wait() -> None:
    return None
