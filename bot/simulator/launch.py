"""The demo in one process: Jinlin's real server (webhook, scheduler, delivery) on the demo
database, and WeChat's side — the stand-in's API and the simulator page — on a second port.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.core.config import Config
from bot.core.errors import ConfigError
from bot.dispatch.understanding import TextParser
from bot.simulator.chat import ChatLog
from bot.simulator.demo import (
    APPID,
    DEMO_DB,
    SECRET,
    Mode,
    copy_windows,
    demo_config,
    open_windows,
    seed,
)
from bot.simulator.page import setup_page
from bot.simulator.personas import STREET
from bot.simulator.phones import Phones
from bot.simulator.saved import load, saving, state_path
from bot.simulator.standin import STANDIN, StandinState, create_standin
from bot.web.app import create_app
from bot.web.keys import DATABASE
from storage import migrate, org
from storage.db import open_database
from storage.types import utcnow

# Open pages hold WebSockets; the shutdown closes them, so nothing needs a long grace.
SHUTDOWN_GRACE = 2.0


@dataclass
class Simulation:
    config: Config
    jinlin_url: str
    simulator_url: str
    phones: Phones
    jinlin: web.Application


def remove_demo(db_path: Path) -> None:
    """Delete the demo database and the simulator's saved state (for --reset)."""
    for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"), state_path(db_path)):
        path.unlink(missing_ok=True)


def _holds_something(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


async def refuse_other_databases(db_path: Path) -> None:
    """Stop unless `db_path` is absent, empty or a demo's: the demo must never seed (or, with
    --reset, delete) a database that holds a real community."""
    if not await asyncio.to_thread(_holds_something, db_path):
        return
    db = open_database(f"sqlite+aiosqlite:///{db_path}")
    try:
        async with db.transaction() as session:
            streets = {p.street for p in await org.places(session=session)}
    except SQLAlchemyError:
        streets = {"(not Jinlin's)"}
    finally:
        await db.close()
    if streets and STREET not in streets:
        raise ConfigError(
            f"{db_path} is not a demo database (it holds {', '.join(sorted(streets))}); "
            "jinlin simulate runs only on its own, by default jinlin-demo.db"
        )


def _listen(host: str, port: int) -> socket.socket:
    # Bound here rather than by aiohttp so both ports are known (port 0: any free one) before
    # either app is built: each side's configuration names the other's address.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


async def _prepare(config: Config, db_path: Path, state: StandinState) -> ChatLog:
    """Migrate and seed the demo database, restore WeChat's side, and make both agree on
    every persona's window; the chats to show."""
    db = open_database(config.database.url)
    try:
        await migrate.upgrade(db)
        seeded = await seed(db, task_limit=config.routing.task_limit)
        # A new database starts a new story: an old file's chats would name other requests.
        chat = None if seeded else await asyncio.to_thread(load, state_path(db_path), state)
        open_windows(state, fresh=chat is None, now=utcnow())
        await copy_windows(db, state)
    finally:
        await db.close()
    return chat or ChatLog()


@asynccontextmanager
async def _serving(app: web.Application, sock: socket.socket) -> AsyncIterator[None]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield
    finally:
        await runner.cleanup()


def _point_to_simulator(app: web.Application, url: str) -> None:
    # Jinlin itself has no page at / (unless the console is there): send a visitor to the demo.
    if any(resource.canonical == "/" for resource in app.router.resources()):
        return

    async def to_simulator(_request: web.Request) -> web.Response:
        raise web.HTTPFound(url)

    app.router.add_get("/", to_simulator)


@asynccontextmanager
async def simulation(
    *,
    db_path: Path = DEMO_DB,
    host: str = "127.0.0.1",
    port: int = 8080,
    simulator_port: int | None = None,
    mode: Mode = "plain",
    reset: bool = False,
    parser: TextParser | None = None,
) -> AsyncIterator[Simulation]:
    """Run the demo until the block ends (port 0: a free port; the simulator's port defaults
    to Jinlin's plus one)."""
    await refuse_other_databases(db_path)
    if reset:
        await asyncio.to_thread(remove_demo, db_path)
    if simulator_port is None:
        simulator_port = port + 1 if port else 0
    jinlin_sock = _listen(host, port)
    try:
        simulator_sock = _listen(host, simulator_port)
    except ConfigError:
        jinlin_sock.close()
        raise
    jinlin_port = jinlin_sock.getsockname()[1]
    # Listening on every address, each side still reaches the other (and a browser the page)
    # on this machine's own.
    local = "127.0.0.1" if host in ("0.0.0.0", "") else host
    simulator_url = f"http://{local}:{simulator_sock.getsockname()[1]}"
    config = demo_config(
        db_path=db_path, host=local, port=jinlin_port, api_base_url=simulator_url, mode=mode
    )
    standin = create_standin(APPID, SECRET, real_time=True)
    phones: Phones | None = None
    try:
        chat = await _prepare(config, db_path, standin[STANDIN])
        phones = Phones(config, standin[STANDIN], chat)
        setup_page(standin, phones)
        jinlin = create_app(config, parser=parser)
        _point_to_simulator(jinlin, f"{simulator_url}/")
        await phones.start()
        async with (
            saving(state_path(db_path), standin[STANDIN], chat),
            _serving(standin, simulator_sock),
            _serving(jinlin, jinlin_sock),
        ):
            phones.db = jinlin[DATABASE]
            yield Simulation(config, f"http://{local}:{jinlin_port}", simulator_url, phones, jinlin)
    finally:
        if phones is not None:
            await phones.close()
        jinlin_sock.close()
        simulator_sock.close()
