"""What a piece of conversation logic works with: the transaction, the config, the clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from storage import accounts, outbox, scope
from storage.models import HelpRequest, RosterEntry
from storage.org import Place


class Notify(Protocol):
    async def __call__(
        self,
        openid: str,
        text: str,
        *,
        expires_at: datetime | None = None,
        request_id: int | None = None,
        purpose: str | None = None,
    ) -> None: ...

    async def many(
        self,
        openids: Iterable[str],
        text: str,
        *,
        expires_at: datetime | None = None,
        request_id: int | None = None,
        purpose: str | None = None,
    ) -> None: ...


class Places(Protocol):
    def find(self, name: str) -> Place | None: ...


@dataclass(frozen=True)
class Ctx:
    """One unit of work: everything done through it commits or rolls back together."""

    session: AsyncSession
    config: Config
    notify: Notify  # queue a message to another person (sent after commit)
    now: datetime  # tz-aware UTC
    # The compounds by name as the dispatcher knows them (read when they change, not per
    # message); without it, handlers ask the database.
    places: Places | None = None

    @property
    def tz(self) -> ZoneInfo:
        return self.config.org.tz

    @property
    def local_now(self) -> datetime:
        """The community's wall-clock time, naive."""
        return self.now.astimezone(self.tz).replace(tzinfo=None)

    def to_utc(self, local_time: datetime) -> datetime:
        """A naive local wall-clock time as tz-aware UTC."""
        return local_time.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC"))

    async def tell_admins(
        self,
        text: str,
        *,
        about: HelpRequest | RosterEntry | None = None,
        community_id: int | None = None,
        request_id: int | None = None,
        purpose: str | None = None,
    ) -> None:
        """Message the street-wide duty workers (`[admin] openids`) and, for news about a
        request (or a listed volunteer), the linked workers of its community (`community_id`
        when the caller knows it already)."""
        openids = list(self.config.admin.openids)
        if community_id is not None:
            openids += await accounts.linked_openids(
                session=self.session, community_id=community_id
            )
        elif about is not None:
            openids += await community_workers(session=self.session, compound_id=about.compound_id)
        await self.notify.many(openids, text, request_id=request_id, purpose=purpose)


async def community_workers(*, session: AsyncSession, compound_id: int | None) -> list[str]:
    """The openids of the workers linked to the community of a compound (or of an unplaced
    request: see storage/scope.py)."""
    community = await scope.community_of(session=session, compound_id=compound_id)
    if community is None:
        return []
    return await accounts.linked_openids(session=session, community_id=community[0])


class Notifier:
    """Queues messages to people inside the current transaction (delivered after commit)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.queued = 0

    async def __call__(
        self,
        openid: str,
        text: str,
        *,
        expires_at: datetime | None = None,
        request_id: int | None = None,
        purpose: str | None = None,
    ) -> None:
        await self.many(
            [openid], text, expires_at=expires_at, request_id=request_id, purpose=purpose
        )

    async def many(
        self,
        openids: Iterable[str],
        text: str,
        *,
        expires_at: datetime | None = None,
        request_id: int | None = None,
        purpose: str | None = None,
    ) -> None:
        """The same message to several people, queued in one statement."""
        self.queued += await outbox.enqueue_many(
            session=self._session,
            openids=openids,
            text=text,
            expires_at=expires_at,
            request_id=request_id,
            purpose=purpose,
        )
