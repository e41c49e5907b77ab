"""The application factory: one setup_* function per concern, resources in cleanup_ctx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.core.config import Config
from bot.dispatch.dispatcher import Dispatcher
from bot.dispatch.understanding import TextParser, understanding
from bot.runtime import running
from bot.web import health, webhook
from bot.web.console import create_console
from bot.web.keys import CONFIG, DATABASE, DISPATCHER, PROTOCOL, RUNTIME
from bot.wechat.protocol import WeChatProtocol
from handlers import build_router


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
    app.router.add_get("/console", _to_console)
    app.add_subapp("/console", create_console(app[CONFIG]))


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


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
        async with understanding(config, db, parser) as places:
            dispatcher = app[DISPATCHER] = Dispatcher(
                config=config,
                db=db,
                router=build_router(),
                parser=places,
                on_queued=runtime.queued,
            )
            yield
        await dispatcher.close()

    return setup
