"""The mirror of the account's user tags: workers tag followers in WeChat's own console, and
a notice to a tag needs to know who is under it (to count them, and to see whether anyone
under it opted out)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.errors import WeChatAPIError
from bot.wechat.client import WeChatClient
from storage import tags
from storage.db import Database
from storage.types import utcnow

logger = logging.getLogger(__name__)

REFRESH = timedelta(minutes=30)


class TagSync:
    """Copies WeChat's tags and their members into the database."""

    def __init__(
        self, db: Database, client: WeChatClient, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._client = client
        self._clock = clock
        self._last: datetime | None = None

    async def refresh_if_stale(self) -> None:
        """Every tag and its members, unless copied in the last `REFRESH`."""
        now = self._clock()
        if self._last is not None and now - self._last < REFRESH:
            return
        self._last = now
        try:
            found = await self._client.get_tags()
        except WeChatAPIError as exc:
            logger.warning("user tags not refreshed: errcode %s", exc.errcode)
            return
        async with self._db.transaction() as session:
            await tags.keep_tags(session=session, tags=[(int(t["id"]), t["name"]) for t in found])
        for tag in found:
            await self.refresh_members(int(tag["id"]))

    async def refresh_members(self, tag_id: int) -> bool:
        """Copy one tag's members now; False if WeChat could not say."""
        try:
            members = await self._client.tag_members(tag_id)
        except WeChatAPIError as exc:
            logger.warning("members of tag %d not refreshed: errcode %s", tag_id, exc.errcode)
            return False
        async with self._db.transaction() as session:
            await tags.keep_members(
                session=session, tag_id=tag_id, openids=members, now=self._clock()
            )
        return True
