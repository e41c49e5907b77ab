"""The application factory: one setup_* function per concern, resources in cleanup_ctx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from bot.appkeys import BACKGROUND, CONFIG, DATABASE, DISPATCHER, PROTOCOL
from bot.config import Config
from bot.dispatch import Dispatcher, TextParser
from bot.errors import ConfigError
from bot.wechat_protocol import WeChatProtocol
from handlers import build_router
from storage import migrate, org
from storage.db import Database, open_database

logger = logging.getLogger(__name__)


def create_app(config: Config, *, parser: TextParser | None = None) -> web.Application:
    """Build the whole server for `config` (nothing starts until the app runs)."""
    app = web.Application(client_max_size=config.server.max_body_bytes)
    app[CONFIG] = config
    app[BACKGROUND] = set()
    app[PROTOCOL] = WeChatProtocol(config.wechat, config.server.replay_window.total_seconds())
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_dispatcher(parser))
    app.cleanup_ctx.append(_background)
    setup_routes(app)
    return app


def setup_routes(app: web.Application) -> None:
    from bot import health, webhook

    app.router.add_get("/wechat", webhook.verify_url)
    app.router.add_post("/wechat", webhook.receive)
    app.router.add_get("/healthz", health.healthz)


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    db = open_database(config.database.url)
    try:
        await prepare_database(db, config)
        app[DATABASE] = db
        yield
    finally:
        await db.close()


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
        if config.org.compounds:
            for compound in config.org.compounds:
                await org.ensure_place(
                    session=session,
                    street=config.org.street,
                    community=config.org.community,
                    compound=compound,
                )
        else:
            await org.ensure_street(
                session=session, street=config.org.street, community=config.org.community
            )


def _dispatcher(
    parser: TextParser | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def setup(app: web.Application) -> AsyncIterator[None]:
        config, db = app[CONFIG], app[DATABASE]
        text_parser = parser
        if text_parser is None:
            async with db.transaction() as session:
                compounds = await org.compound_names(session=session)
            text_parser = await asyncio.to_thread(build_parser, config, compounds)
        app[DISPATCHER] = Dispatcher(
            config=config, db=db, router=build_router(), parser=text_parser
        )
        yield

    return setup


def build_parser(config: Config, compounds: list[str]) -> TextParser:
    """The message parser with the lexicon and compound names (slow: run it off the loop)."""
    from nlp import Parser

    extra = Path(config.nlp.extra_lexicon) if config.nlp.extra_lexicon else None
    parser = Parser(extra_lexicon=extra)
    parser.add_compounds(compounds)
    return parser


async def _background(app: web.Application) -> AsyncIterator[None]:
    yield
    pending = app[BACKGROUND]
    if pending:
        await asyncio.wait(pending, timeout=10)
