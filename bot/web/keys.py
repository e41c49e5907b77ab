"""Typed keys for what the application holds (instead of globals)."""

from __future__ import annotations

from aiohttp import web

from bot.core.config import Config
from bot.dispatch.dispatcher import Dispatcher
from bot.runtime import Runtime
from bot.wechat.protocol import WeChatProtocol
from storage.db import Database

CONFIG = web.AppKey("config", Config)
DATABASE = web.AppKey("database", Database)
PROTOCOL = web.AppKey("protocol", WeChatProtocol)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
RUNTIME = web.AppKey("runtime", Runtime)
