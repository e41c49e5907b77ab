"""The webhook benchmark's world: a street's volunteers imported, WeChat's API stood in for,
and Jinlin's real server processes started on it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.webhook_load import COMPOUNDS
from bot.core.config import WeChatConfig
from bot.simulator.pusher import WeChatPusher
from bot.simulator.standin import STANDIN, StandinState, create_standin

REPO = Path(__file__).resolve().parents[1]
TOKEN = "benchtoken"
APPID, SECRET = "wxbench000000000", "bench-secret"
TEMPLATE = "TPL-BENCH"
ADMIN = "oBenchAdmin"
STREET = "和平街道"
COMMUNITY_OF = {"阳光花园": "阳光社区", "翠竹苑": "阳光社区", "幸福里": "幸福社区"}
SKILL_SETS = (
    "medical|elderly|errand",
    "repair|errand|other",
    "childcare|tutoring|other",
    "disability|elderly|medical",
    "errand|hardship|safety",
)
assert set(COMMUNITY_OF) == set(COMPOUNDS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def volunteer_openids(per_compound: int) -> list[str]:
    return [f"oVol{c}{n:03d}" for c in range(len(COMPOUNDS)) for n in range(per_compound)]


def roster_csv(path: Path, per_compound: int) -> None:
    """Volunteers across the three compounds of two communities, in the roster's CSV format."""
    lines = ["name,phone,skills,street,community,compound,building,availability,openid"]
    for c, compound in enumerate(COMPOUNDS):
        for n in range(per_compound):
            phone = f"139{c:02d}{n:06d}"
            skills = SKILL_SETS[n % len(SKILL_SETS)]
            lines.append(
                f"志愿者{c}-{n},{phone},{skills},{STREET},{COMMUNITY_OF[compound]},{compound},"
                f"{n % 12 + 1}号楼,随时,oVol{c}{n:03d}"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def environment(database: str, port: int, api_base_url: str) -> dict[str, str]:
    """Jinlin's configuration for the benchmark, as JINLIN_* variables over the example."""
    return {
        **os.environ,
        "JINLIN_DATABASE__URL": database,
        "JINLIN_SERVER__PORT": str(port),
        "JINLIN_SERVER__LOG_LEVEL": "WARNING",
        "JINLIN_WECHAT__TOKEN": TOKEN,
        "JINLIN_WECHAT__APPID": APPID,
        "JINLIN_WECHAT__SECRET": SECRET,
        "JINLIN_WECHAT__API_BASE_URL": api_base_url,
        "JINLIN_WECHAT__TEMPLATE_ID": TEMPLATE,
        "JINLIN_ADMIN__OPENIDS": json.dumps([ADMIN]),
        "JINLIN_ORG__STREET": STREET,
        "JINLIN_ORG__COMMUNITY": "阳光社区",
        "JINLIN_ORG__COMPOUNDS": json.dumps(["阳光花园", "翠竹苑"], ensure_ascii=False),
    }


def jinlin(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli.main", *args, "--config", "config.example.toml"]


def prepare(env: dict[str, str], workdir: Path, per_compound: int) -> None:
    """Migrate the database and import the roster with the real commands."""
    roster = workdir / "roster.csv"
    roster_csv(roster, per_compound)
    for argv in (jinlin("db", "upgrade"), [*jinlin("import", "volunteers"), str(roster)]):
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[2:4])} failed: {done.stderr.strip()}")


def start(
    argv: Sequence[str], env: dict[str, str], log: Path, cpu: int | None
) -> subprocess.Popen[bytes]:
    """A server process, pinned to `cpu` when given."""

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    with log.open("ab") as sink:
        return subprocess.Popen(
            list(argv), cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, preexec_fn=pin
        )


async def wait_until_up(
    url: str, processes: Sequence[subprocess.Popen[bytes]], within: float = 90
) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            for process in processes:
                if process.poll() is not None:
                    raise SystemExit(f"a server exited early with {process.returncode}")
            try:
                # Any answer will do: the reference has no /healthz and says 404.
                async with http.get(url.replace("/wechat", "/healthz")):
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


async def standin() -> tuple[web.AppRunner, StandinState, str]:
    """WeChat's API stood in for on loopback: outbound delivery really runs against it."""
    app = create_standin(APPID, SECRET, real_time=True)
    state = app[STANDIN]
    state.add_template(TEMPLATE)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, state, f"http://127.0.0.1:{port}"


async def say_hello(url: str, state: StandinState, openids: Sequence[str]) -> None:
    """Each of `openids` writes to the account (both sides then know their window is open)."""
    async with aiohttp.ClientSession() as http:
        pusher = WeChatPusher(url, WeChatConfig(token=TOKEN), http, state.interact)
        for openid in openids:
            answer = await pusher.text(openid, "你好")
            if answer.status != 200:
                raise SystemExit(f"hello from {openid} got {answer.status}")
