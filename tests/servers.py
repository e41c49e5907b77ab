"""Real servers on loopback for tests: Jinlin itself and the stand-in for WeChat's API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.core.config import Config
from bot.dispatch.understanding import TextParser
from bot.simulator.pusher import WeChatPusher
from bot.simulator.standin import STANDIN, StandinState, create_standin
from bot.web.app import create_app


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 with a free port; yield its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class Running:
    app: web.Application
    url: str
    http: aiohttp.ClientSession
    wechat: WeChatPusher
    standin: StandinState


@asynccontextmanager
async def jinlin(
    config: Config, parser: TextParser, *, scheduler: bool = False
) -> AsyncIterator[Running]:
    """Jinlin's server on loopback with its WeChat API pointed at a stand-in, and a pusher
    that talks to the webhook like WeChat (telling the stand-in of each interaction)."""
    standin_app = create_standin(config.wechat.appid, config.wechat.secret, real_time=True)
    standin = standin_app[STANDIN]
    async with serving(standin_app) as api_url:
        data = config.model_dump()
        data["wechat"]["api_base_url"] = api_url
        app = create_app(Config.model_validate(data), parser=parser, scheduler=scheduler)
        async with serving(app) as url, aiohttp.ClientSession() as http:
            pusher = WeChatPusher(f"{url}/wechat", config.wechat, http, standin.interact)
            yield Running(app, url, http, pusher, standin)
