"""Webhook benchmark: Jinlin's real server against a bare aiohttp reference, same load, same run.

Drives signed text messages (each a new MsgId) over loopback at 32 concurrent connections into
`jinlin serve` (SQLite, every message persisted) and into bench/reference_server.py, then prints
msg/s, p50/p99 latency and the throughput ratio. Run: .venv/bin/python bench/bench_webhook.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.config import WeChatConfig  # noqa: E402
from bot.simulator.pusher import WeChatPusher  # noqa: E402

TOKEN = "benchtoken"
TEXTS = ["你好", "在吗", "谢谢", "怎么发布求助", "你好呀", "辛苦了", "可以发语音吗", "谢谢你们"]


@dataclass
class Result:
    name: str
    sent: int
    failed: int
    seconds: float
    latencies: list[float]
    cpu: float = 0.0  # the server's CPU seconds (all its threads) over the round

    @property
    def cpu_per_message(self) -> float:
        """Milliseconds of server CPU per message: steadier than msg/s on a shared machine."""
        return self.cpu / self.sent * 1000

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<10} {self.rate:8.0f} msg/s   p50 {self.pct(0.50):6.1f} ms   "
            f"p99 {self.pct(0.99):6.1f} ms   cpu {self.cpu_per_message:5.3f} ms/msg   "
            f"failed {self.failed}"
        )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all threads (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(
    name: str, url: str, total: int, concurrency: int, server: subprocess.Popen[bytes]
) -> Result:
    before = cpu_seconds(server.pid)
    result = await drive(name, url, total, concurrency)
    result.cpu = cpu_seconds(server.pid) - before
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until_up(url: str, process: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"server exited early with {process.returncode}")
            try:
                async with http.get(url.replace("/wechat", "/healthz")):
                    return
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


async def drive(name: str, url: str, total: int, concurrency: int) -> Result:
    config = WeChatConfig(token=TOKEN)
    connector = aiohttp.TCPConnector(limit=concurrency)
    latencies: list[float] = []
    failed = 0
    async with aiohttp.ClientSession(connector=connector) as http:
        pusher = WeChatPusher(url, config, http)
        per_worker = total // concurrency

        async def worker(n: int) -> None:
            nonlocal failed
            for i in range(per_worker):
                xml = pusher.text_xml(f"oBench{n:03d}", TEXTS[i % len(TEXTS)])
                started = time.perf_counter()
                answer = await pusher.post(xml)
                latencies.append(time.perf_counter() - started)
                if answer.status != 200 or not answer.content:
                    failed += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        seconds = time.perf_counter() - began
    return Result(name, per_worker * concurrency, failed, seconds, latencies)


# With two or more CPUs the load generator and the server under test get one each, so that
# neither steals the other's core: the reference and Jinlin are then measured alike.
CPUS = sorted(os.sched_getaffinity(0))
GENERATOR_CPU, SERVER_CPU = (CPUS[0], CPUS[1]) if len(CPUS) >= 2 else (None, None)


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    def pin() -> None:
        if SERVER_CPU is not None:
            os.sched_setaffinity(0, {SERVER_CPU})

    with log.open("wb") as sink:
        return subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, preexec_fn=pin
        )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6_400, help="per round and server")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median wins)")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    if GENERATOR_CPU is not None:
        os.sched_setaffinity(0, {GENERATOR_CPU})
    workdir = Path(tempfile.mkdtemp(prefix="jinlin-bench-"))
    database = workdir / "bench.db"
    env = {
        **os.environ,
        "JINLIN_WECHAT__TOKEN": TOKEN,
        "JINLIN_DATABASE__URL": f"sqlite+aiosqlite:///{database}",
        "JINLIN_SERVER__LOG_LEVEL": "WARNING",
    }
    jinlin_port, reference_port = free_port(), free_port()
    env["JINLIN_SERVER__PORT"] = str(jinlin_port)
    python = sys.executable
    servers = [
        start(
            [python, "-m", "bot.cli.main", "serve", "--config", "config.example.toml"],
            env,
            workdir / "jinlin.log",
        ),
        start(
            [python, "bench/reference_server.py", str(reference_port), TOKEN],
            env,
            workdir / "reference.log",
        ),
    ]
    try:
        jinlin_url = f"http://127.0.0.1:{jinlin_port}/wechat"
        reference_url = f"http://127.0.0.1:{reference_port}/wechat"
        await wait_until_up(jinlin_url, servers[0])
        await wait_until_up(reference_url, servers[1])
        warm = max(args.concurrency, args.messages // 20)
        await drive("warm-up", jinlin_url, warm, args.concurrency)
        await drive("warm-up", reference_url, warm, args.concurrency)
        rounds = []
        # Interleaved, so a burst of load from elsewhere on this shared machine hits both.
        for _ in range(args.rounds):
            reference = await measured(
                "reference", reference_url, args.messages, args.concurrency, servers[1]
            )
            jinlin = await measured(
                "jinlin", jinlin_url, args.messages, args.concurrency, servers[0]
            )
            rounds.append((reference, jinlin))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=15)

    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT count(*) FROM processed_message").fetchone()[0]
    sent = sum(j.sent for _, j in rounds)
    expected = sent + warm // args.concurrency * args.concurrency
    ratios = [j.rate / r.rate for r, j in rounds]
    print(
        f"webhook benchmark: {args.rounds} rounds of {args.messages} signed text messages per "
        f"server, {args.concurrency} connections, loopback"
    )
    if SERVER_CPU is not None:
        print(f"pinned: load generator on CPU {GENERATOR_CPU}, servers on CPU {SERVER_CPU}")
    for number, (reference, jinlin) in enumerate(rounds, 1):
        print(f"round {number}:  {reference.line()}")
        print(f"          {jinlin.line()}   ratio {jinlin.rate / reference.rate:.2f}")
    ratio = statistics.median(ratios)
    p99 = statistics.median(j.pct(0.99) for _, j in rounds)
    failed = sum(j.failed for _, j in rounds)
    print(f"persisted  {stored} of {expected} messages sent to jinlin (SQLite, WAL)")
    print(f"ratio      {ratio:.2f}x the reference's throughput, median of rounds (target >= 0.50x)")
    print(f"p99        {p99:.1f} ms, median of rounds (target < 50 ms)")
    cpu = statistics.median(j.cpu_per_message / r.cpu_per_message for r, j in rounds)
    print(f"cpu        {cpu:.2f}x the reference's server CPU per message, median of rounds")
    ok = ratio >= 0.5 and p99 < 50 and stored == expected and failed == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
