"""Real servers on loopback for tests: Jinlin itself (and later the WeChat stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.config import Config
from bot.dispatch import TextParser
from bot.server import create_app
from bot.webhook_client import WeChatPusher


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


@asynccontextmanager
async def jinlin(config: Config, parser: TextParser) -> AsyncIterator[Running]:
    """Jinlin's server on loopback, with a pusher that talks to it like WeChat."""
    app = create_app(config, parser=parser)
    async with serving(app) as url, aiohttp.ClientSession() as http:
        yield Running(app, url, http, WeChatPusher(f"{url}/wechat", config.wechat, http))
