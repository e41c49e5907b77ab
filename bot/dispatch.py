"""From an inbound message to its reply: dedupe, one transaction, the router, the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.inbound import Inbound
from bot.router import Router
from storage import messages, outbox, users, volunteers
from storage.db import Database
from storage.models import User
from storage.types import utcnow

logger = logging.getLogger(__name__)

SORRY = "抱歉，系统暂时出了点问题，请稍后再发一次。"


class TextParser(Protocol):
    def parse(self, text: str, now: datetime) -> Any: ...


class Notifier:
    """Queues messages to other people inside the current transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.queued = 0

    async def __call__(self, openid: str, text: str) -> None:
        await outbox.enqueue(session=self._session, openid=openid, text=text)
        self.queued += 1


class Dispatcher:
    """Turns each inbound message into exactly one effect and one reply."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        router: Router,
        parser: TextParser,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.db = db
        self.router = router
        self.parser = parser
        self.on_queued = on_queued

    def local_now(self) -> datetime:
        """The community's wall-clock time, naive, as the parser expects it."""
        return datetime.now(self.config.org.tz).replace(tzinfo=None)

    async def process(self, inbound: Inbound) -> str:
        """Handle `inbound` once; a re-delivered copy gets the first copy's reply."""
        parse = self.parser.parse(inbound.text, self.local_now()) if inbound.text else None
        key = inbound.dedup_key
        async with self.db.transaction() as session:
            if not await messages.claim(session=session, key=key):
                return await self._copy_reply(session, key)
            now = utcnow()
            user = await users.touch(
                session=session, openid=inbound.openid, kind=inbound.interaction, at=now
            )
            notify = Notifier(session)
            reply = await self._route(session, inbound, parse, user, notify, now)
            await messages.record_reply(session=session, key=key, reply=reply)
        if notify.queued:
            self.on_queued()
        return reply

    async def _route(
        self,
        session: AsyncSession,
        inbound: Inbound,
        parse: Any,
        user: User,
        notify: Notifier,
        now: datetime,
    ) -> str:
        pending = users.dialog(user, now)
        roles: frozenset[str] | None = None

        async def user_roles() -> frozenset[str]:
            nonlocal roles
            if roles is None:
                found = {"resident"}
                if inbound.openid in self.config.admin.openids:
                    found.add("admin")
                if await volunteers.find(session=session, user_id=user.id) is not None:
                    found.add("volunteer")
                roles = frozenset(found)
            return roles

        data: dict[str, Any] = {
            "msg": inbound,
            "parse": parse,
            "user": user,
            "session": session,
            "config": self.config,
            "now": now,
            "local_now": self.local_now(),
            "notify": notify,
            "dialog_state": f"{pending[0]}.{pending[1]}" if pending else None,
            "dialog": pending[2] if pending else {},
            "parser": self.parser,
            "roles": user_roles,
        }
        reply = await self.router.dispatch(data, user_roles)
        return str(reply) if reply else ""

    async def _copy_reply(self, session: AsyncSession, key: str) -> str:
        record = await messages.stored(session=session, key=key)
        if record is None or record.delivery == "outbox":
            return ""
        if record.delivery is None and not await messages.claim_delivery(
            session=session, key=key, how="passive"
        ):
            await session.refresh(record)
        return record.reply or "" if record.delivery in (None, "passive") else ""

    async def deliver_late(self, inbound: Inbound, reply: str) -> None:
        """The passive reply missed WeChat's deadline: send it through the outbox instead."""
        if not reply:
            return
        async with self.db.transaction() as session:
            if await messages.claim_delivery(session=session, key=inbound.dedup_key, how="outbox"):
                await outbox.enqueue(session=session, openid=inbound.openid, text=reply)
                queued = True
            else:
                queued = False
        if queued:
            self.on_queued()
