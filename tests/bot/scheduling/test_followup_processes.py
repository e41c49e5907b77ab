"""Follow-ups with real server processes: a kill -9 and restart, and web processes + one worker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.core.config import WeChatConfig
from bot.simulator.pusher import WeChatPusher
from bot.simulator.standin import create_standin
from storage import migrate, requests
from storage.db import Database, open_database
from storage.models import RequestEvent
from tests.conftest import REPO, _truncate
from tests.handlers.community import register_volunteer
from tests.servers import serving

TIMEOUT_S = 3
TOKEN = "jinlin-demo-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(db_url: str, api_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "JINLIN_DATABASE__URL": db_url,
        "JINLIN_SERVER__PORT": str(port),
        "JINLIN_WECHAT__API_BASE_URL": api_url,
        "JINLIN_WECHAT__TOKEN": TOKEN,
        "JINLIN_ORG__STREET": "示范街道",
        "JINLIN_ORG__COMMUNITY": "示范社区",
        "JINLIN_ORG__COMPOUNDS": "阳光花园,幸福里",
        "JINLIN_ADMIN__OPENIDS": "oAdmin",
        # Volunteers count as reachable by template whatever their customer-service quota (six
        # offers to one volunteer exceed it): these tests are about follow-ups, not WeChat.
        "JINLIN_WECHAT__TEMPLATE_ID": "TPL-NOTICE",
        "JINLIN_ROUTING__OFFER_TIMEOUT": f"{TIMEOUT_S}s",
        "JINLIN_FOLLOWUPS__POLL_INTERVAL": "500ms",
        "JINLIN_SERVER__LOG_LEVEL": "WARNING",
    }


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", *args, "--config", "config.example.toml"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def until_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"server exited: {tail(log)}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"server on {port} never became healthy: {tail(log)}")


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def seed(db: Database) -> None:
    """One volunteer in the request's compound, one elsewhere in the community."""
    for openid, compound in (("oNear", "阳光花园"), ("oCommunity", "幸福里")):
        await register_volunteer(
            db, openid, openid, ["errand"], compound=compound, building="1", task_limit=50
        )


async def offered_events(db: Database, number: int) -> list[RequestEvent]:
    async with db.transaction() as session:
        return [
            e for e in await requests.history(session=session, number=number) if e.kind == "offered"
        ]


@asynccontextmanager
async def standin_api() -> AsyncIterator[str]:
    app = create_standin("wx0000000000000000", "", real_time=True)
    async with serving(app) as url:
        yield url


async def test_a_follow_up_due_while_the_server_was_killed_fires_once_after_restart(
    tmp_path: Path, parser: Any
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}"
    db = open_database(db_url)
    await migrate.upgrade(db)
    await seed(db)
    port = free_port()
    async with standin_api() as api, aiohttp.ClientSession() as http:
        env = environment(db_url, api, port)
        pusher = WeChatPusher(f"http://127.0.0.1:{port}/wechat", WeChatConfig(token=TOKEN), http)
        with process(["serve"], env, tmp_path / "first.log") as first:
            await until_healthy(port, first, tmp_path / "first.log")
            answer = await pusher.text("oR", "阳光花园3号楼，帮我取个快递")
            assert answer.content and "#1" in answer.content
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert len(await offered_events(db, 1)) == 1
        await asyncio.sleep(TIMEOUT_S + 1)  # the offer timed out while nothing ran
        with process(["serve"], env, tmp_path / "second.log") as second:
            await until_healthy(port, second, tmp_path / "second.log")
            for _ in range(100):
                if len(await offered_events(db, 1)) == 2:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)  # and nothing fires a second time
            events = await offered_events(db, 1)
    await db.close()
    assert len(events) == 2
    assert "本社区" in (events[1].note or "")


async def test_web_processes_and_one_worker_on_postgresql_fire_each_follow_up_once_on_time(
    tmp_path: Path, parser: Any, pg_server: str
) -> None:
    db = open_database(pg_server)
    await migrate.upgrade(db)
    await _truncate(db)
    await seed(db)
    ports = [free_port(), free_port()]
    async with standin_api() as api, aiohttp.ClientSession() as http:
        with (
            process(["worker"], environment(pg_server, api, free_port()), tmp_path / "worker.log"),
            process(
                ["serve", "--no-scheduler"],
                environment(pg_server, api, ports[0]),
                tmp_path / "web0.log",
            ) as web0,
            process(
                ["serve", "--no-scheduler"],
                environment(pg_server, api, ports[1]),
                tmp_path / "web1.log",
            ) as web1,
        ):
            await until_healthy(ports[0], web0, tmp_path / "web0.log")
            await until_healthy(ports[1], web1, tmp_path / "web1.log")
            pushers = [
                WeChatPusher(f"http://127.0.0.1:{p}/wechat", WeChatConfig(token=TOKEN), http)
                for p in ports
            ]
            for i in range(6):
                answer = await pushers[i % 2].text(f"oR{i}", "阳光花园3号楼，帮我取个快递")
                assert answer.content and f"#{i + 1}" in answer.content
            deadline = time.monotonic() + TIMEOUT_S + 8
            while time.monotonic() < deadline:
                counts = [len(await offered_events(db, n)) for n in range(1, 7)]
                if all(c == 2 for c in counts):
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)
            events = {n: await offered_events(db, n) for n in range(1, 7)}
    await db.close()
    for number, offered in events.items():
        assert len(offered) == 2, (number, [e.note for e in offered])
        late = (offered[1].at - offered[0].at).total_seconds() - TIMEOUT_S
        assert late < 4, f"#{number} widened {late:.1f}s after it was due"
