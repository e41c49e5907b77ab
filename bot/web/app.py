"""The application factory: one setup_* function per concern, resources in cleanup_ctx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from bot.core.config import Config
from bot.dispatch.dispatcher import Dispatcher, TextParser
from bot.runtime import running
from bot.web import health, webhook
from bot.web.keys import CONFIG, DATABASE, DISPATCHER, PROTOCOL, RUNTIME
from bot.wechat.protocol import WeChatProtocol
from handlers import build_router
from storage import org
from storage.db import Database

logger = logging.getLogger(__name__)

COMPOUND_REFRESH = 60.0  # seconds


def create_app(
    config: Config, *, parser: TextParser | None = None, scheduler: bool = True
) -> web.Application:
    """Build the whole server for `config` (nothing starts until the app runs).

    `scheduler=False` is `jinlin serve --no-scheduler`: web only, for several processes
    beside one `jinlin worker`.
    """
    app = web.Application(client_max_size=config.server.max_body_bytes)
    app[CONFIG] = config
    app[PROTOCOL] = WeChatProtocol(config.wechat, config.server.replay_window.total_seconds())
    app.cleanup_ctx.append(_runtime(scheduler))
    app.cleanup_ctx.append(_dispatcher(parser))
    setup_routes(app)
    return app


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/wechat", webhook.verify_url)
    app.router.add_post("/wechat", webhook.receive)
    app.router.add_get("/healthz", health.healthz)


def _runtime(scheduler: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def setup(app: web.Application) -> AsyncIterator[None]:
        async with running(app[CONFIG], scheduler=scheduler) as runtime:
            app[RUNTIME] = runtime
            app[DATABASE] = runtime.db
            yield

    return setup


def _dispatcher(parser: TextParser | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def setup(app: web.Application) -> AsyncIterator[None]:
        config, db, runtime = app[CONFIG], app[DATABASE], app[RUNTIME]
        text_parser = parser
        compounds: list[str] = []
        if text_parser is None:
            async with db.transaction() as session:
                compounds = await org.compound_names(session=session)
            text_parser = await asyncio.to_thread(build_parser, config, compounds)
        dispatcher = app[DISPATCHER] = Dispatcher(
            config=config,
            db=db,
            router=build_router(),
            parser=text_parser,
            on_queued=runtime.queued,
        )
        refresher = asyncio.ensure_future(_learn_new_compounds(db, text_parser, set(compounds)))
        yield
        refresher.cancel()
        await asyncio.gather(refresher, return_exceptions=True)
        await dispatcher.close()

    return setup


async def _learn_new_compounds(db: Database, parser: TextParser, known: set[str]) -> None:
    # Compounds created elsewhere (an import, another process) become known to the parser,
    # so 我住新小区3号楼 binds without a restart.
    while True:
        try:
            async with db.transaction() as session:
                names = set(await org.compound_names(session=session))
            if names - known:
                parser.add_compounds(sorted(names - known))
                known |= names
        except Exception as exc:  # the database may be briefly away; try again next round
            logger.warning("could not refresh compound names: %s", exc.__class__.__name__)
        await asyncio.sleep(COMPOUND_REFRESH)


def build_parser(config: Config, compounds: list[str]) -> TextParser:
    """The message parser with the lexicon and compound names (slow: run it off the loop)."""
    from nlp import Parser

    extra = Path(config.nlp.extra_lexicon) if config.nlp.extra_lexicon else None
    parser = Parser(extra_lexicon=extra)
    parser.add_compounds(compounds)
    return parser
