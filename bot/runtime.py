"""What runs behind the webhook in every process: the database, WeChat's API, delivery of
the outbox, and (in one process or the worker) the follow-up scheduler and broadcasts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.broadcasting.engine import BroadcastEngine
from bot.core.config import Config
from bot.core.errors import ConfigError, WeChatAPIError
from bot.scheduling.scheduler import FollowupScheduler
from bot.wechat.client import WeChatClient
from bot.wechat.outbound import Deliverer
from handlers.menu import MENU
from storage import migrate, org
from storage.db import Database, open_database

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    db: Database
    client: WeChatClient
    deliverer: Deliverer
    scheduler: FollowupScheduler | None
    broadcaster: BroadcastEngine | None = None  # where the scheduler runs

    def queued(self) -> None:
        """Messages were committed to the outbox: deliver them soon."""
        self.deliverer.kick()


async def open_configured(config: Config) -> Database:
    """The configured database, checked: one line naming database.url when it cannot be used."""
    db = open_database(config.database.url)
    reason = await db.unreachable_reason()
    if reason is not None:
        await db.close()
        raise ConfigError(f"database.url: {reason}")
    return db


async def prepare_database(db: Database, config: Config) -> None:
    """Migrate SQLite by itself; insist PostgreSQL is migrated; seed the configured places."""
    if db.is_sqlite:
        await migrate.upgrade(db)
    else:
        current, head = await migrate.current_revision(db), migrate.head_revision()
        if current != head:
            raise ConfigError(
                f"database schema is at {current or 'nothing'}, this code needs {head}: "
                "run `jinlin db upgrade`"
            )
    async with db.transaction() as session:
        for compound in config.org.compounds:
            await org.ensure_place(
                session=session,
                street=config.org.street,
                community=config.org.community,
                compound=compound,
            )
        if not config.org.compounds:
            await org.ensure_street(
                session=session, street=config.org.street, community=config.org.community
            )


async def install_menu(client: WeChatClient) -> None:
    """Put the account's custom menu in place (once per start of the scheduling process)."""
    try:
        await client.create_menu(MENU)
    except WeChatAPIError as exc:
        # Not fatal: chat works without the menu, and an unverified account may not have one.
        logger.warning("custom menu not installed: errcode %s %s", exc.errcode, exc.errmsg)


@asynccontextmanager
async def running(config: Config, *, scheduler: bool) -> AsyncIterator[Runtime]:
    """Open everything for `config`; close it all, in reverse, on the way out."""
    if not config.admin.openids:
        logger.warning("no [admin] openids configured: escalations and digests reach nobody")
    db = await open_configured(config)
    try:
        await prepare_database(db, config)
        async with WeChatClient(config.wechat, db) as client:
            deliverer = Deliverer(db, client, config)
            runtime = Runtime(config, db, client, deliverer, None)
            await deliverer.start()
            try:
                if scheduler:
                    runtime.scheduler = FollowupScheduler(config, db, runtime.queued)
                    await runtime.scheduler.start()
                    runtime.broadcaster = BroadcastEngine(db, client, config)
                    await runtime.broadcaster.start()
                    # In the background: WeChat may be slow or unreachable, serving must not wait.
                    menu = asyncio.ensure_future(install_menu(client))
                try:
                    yield runtime
                finally:
                    if scheduler:
                        menu.cancel()
                        await asyncio.gather(menu, return_exceptions=True)
                    if runtime.broadcaster is not None:
                        await runtime.broadcaster.stop()
                    if runtime.scheduler is not None:
                        await runtime.scheduler.stop()
            finally:
                await deliverer.stop()
    finally:
        await db.close()
