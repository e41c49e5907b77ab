"""`jinlin serve` and `jinlin worker`: the processes that run until they are stopped."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from aiohttp import web

from bot.cli.logs import setup_logging
from bot.core.config import Config
from bot.runtime import running
from bot.web.app import create_app

logger = logging.getLogger(__name__)


def serve(config: Config, *, scheduler: bool) -> int:
    """Run the webhook server (and, with `scheduler`, follow-ups) until interrupted."""
    setup_logging(config.server.log_level)
    # Database drivers run in threads; under load the event loop holds the GIL, and a thread
    # waiting for it loses up to the whole switch interval (5 ms by default) per query.
    sys.setswitchinterval(0.0005)
    app = create_app(config, scheduler=scheduler)
    app.on_startup.append(_freeze_startup_objects)

    async def announce(_app: web.Application) -> None:
        # After the database is open and migrated: a wrong database.url stops the server
        # with one line before anything claims it is serving.
        logger.info(
            "serving on http://%s:%d%s",
            config.server.host,
            config.server.port,
            "" if scheduler else " (no scheduler)",
        )

    app.on_startup.append(announce)
    web.run_app(
        app,
        host=config.server.host,
        port=config.server.port,
        reuse_port=config.server.reuse_port or None,
        print=None,
        access_log=None,
    )
    return 0


async def _freeze_startup_objects(_app: web.Application) -> None:
    # The parser's tables and SQLAlchemy's caches live for the whole process; leaving them out
    # of the cyclic garbage collector's scans keeps its pauses short under load.
    gc.collect()
    gc.freeze()


def work(config: Config) -> int:
    """Run follow-ups and outbound delivery only, until SIGINT or SIGTERM."""
    setup_logging(config.server.log_level)
    sys.setswitchinterval(0.0005)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with running(config, scheduler=True):
            logger.info("worker running: follow-ups and outbound delivery")
            await stop.wait()
        logger.info("worker stopped")

    asyncio.run(run())
    return 0
