"""Webhook benchmark: Jinlin's real server under a community account's real mix of messages,
against a bare aiohttp reference under the same load in the same run.

Volunteers of three compounds in two communities are imported with `jinlin import
volunteers`, and each writes to the account before round 1; then wrk (bench/webhook_load.py)
sends signed text messages from about a thousand residents over 32 connections: half of them
help requests naming a compound and a building, the rest progress questions, thanks and
greetings, every one a new MsgId. `jinlin serve` runs with its scheduler and outbound delivery
against a WeChat API stand-in, so offers really go out. Three rounds on the growing database,
then a round of small talk alone, then the reference (bench/reference_server.py) under both.
On SQLite a floor runs the mix too (bench/floor_server.py): the least work the mix needs, on
the same stack, batched as hard as it goes; it splits the gap to the reference into what the
work costs and what Jinlin adds.

Run: .venv/bin/python bench/bench_webhook.py
     .venv/bin/python bench/bench_webhook.py --database postgresql+asyncpg://postgres@127.0.0.1/postgres --web-processes 2
(with PostgreSQL a fresh database is created beside the one named, and dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import webhook_load as load  # noqa: E402
from bench import webhook_world as world  # noqa: E402
from bench.webhook_check import Stored, check  # noqa: E402
from bot.simulator.standin import StandinState  # noqa: E402

# With two or more CPUs the load generator and the servers under test get one each, so that
# neither steals the other's core: the reference and Jinlin are then measured alike.
CPUS = sorted(os.sched_getaffinity(0))
GENERATOR_CPU, SERVER_CPU = (CPUS[0], CPUS[1]) if len(CPUS) >= 2 else (None, None)

# Targets on the mix (SQLite): of the reference's throughput, p99, last round against first.
MIN_RATIO, MAX_P99_MS, MIN_GROWTH = 0.25, 100.0, 0.8


@asynccontextmanager
async def fresh_database(url: str | None, workdir: Path) -> AsyncIterator[str]:
    """A new, empty database: an SQLite file in `workdir`, or one created on the PostgreSQL
    server of `url` (and dropped afterwards)."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        return
    import asyncpg

    server = url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"jinlin_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def servers_argv(web_processes: int) -> list[tuple[list[str], dict[str, str]]]:
    """One `jinlin serve` with its scheduler; or several web processes sharing the port
    (SO_REUSEPORT) and a `jinlin worker` for the schedule."""
    if web_processes == 1:
        return [(world.jinlin("serve"), {})]
    shared = {"JINLIN_SERVER__REUSE_PORT": "true"}
    web = [(world.jinlin("serve", "--no-scheduler"), shared) for _ in range(web_processes)]
    return [*web, (world.jinlin("worker"), {})]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a postgresql+asyncpg:// server URL (default SQLite)")
    parser.add_argument("--web-processes", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10, help="per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--volunteers", type=int, default=20, help="per compound")
    args = parser.parse_args()
    load.wrk_binary()

    if GENERATOR_CPU is not None:
        os.sched_setaffinity(0, {GENERATOR_CPU})
    workdir = Path(tempfile.mkdtemp(prefix="jinlin-bench-"))
    runner, standin, api = await world.standin()
    try:
        async with fresh_database(args.database, workdir) as database:
            rounds, small, stored = await measure_jinlin(args, workdir, database, api, standin)
        # The floor's schema is SQLite's: beside PostgreSQL it would measure another thing.
        sqlite = not database.startswith("postgresql")
        floor = await measure_floor(args, workdir) if sqlite else None
        reference, reference_small = await measure_reference(args, workdir)
    finally:
        await runner.cleanup()
    return report(args, database, rounds, small, stored, reference, reference_small, floor)


async def measure_jinlin(
    args: argparse.Namespace,
    workdir: Path,
    database: str,
    api: str,
    standin: StandinState,
) -> tuple[list[load.Run], load.Run, Stored]:
    port = world.free_port()
    env = world.environment(database, port, api)
    world.prepare(env, workdir, args.volunteers)
    processes = [
        world.start(argv, {**env, **extra}, workdir / "jinlin.log", SERVER_CPU)
        for argv, extra in servers_argv(args.web_processes)
    ]
    url = f"http://127.0.0.1:{port}/wechat"
    pids = [process.pid for process in processes]
    try:
        await world.wait_until_up(url, processes)
        await world.say_hello(
            url, standin, [*world.volunteer_openids(args.volunteers), world.ADMIN]
        )
        drive = _driver(args, workdir, url, pids)
        warm = await drive("warm-up", load.MIX, 2)
        rounds = [
            await drive(f"round {n}", load.MIX, args.seconds) for n in range(1, args.rounds + 1)
        ]
        small = await drive("small talk", ("smalltalk",), args.seconds)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    receipts = sum(run.numbered for run in (warm, *rounds))
    return rounds, small, await check(database, receipts)


async def measure_reference(args: argparse.Namespace, workdir: Path) -> tuple[load.Run, load.Run]:
    argv = ["bench/reference_server.py", world.TOKEN]
    runs = [("reference", load.MIX, args.seconds), ("ref. small", ("smalltalk",), 5)]
    mix, small = await measure_bare(args, workdir, argv, runs)
    return mix, small


async def measure_floor(args: argparse.Namespace, workdir: Path) -> load.Run:
    argv = ["bench/floor_server.py", world.TOKEN, str(workdir / "floor.db")]
    (mix,) = await measure_bare(args, workdir, argv, [("floor", load.MIX, args.seconds)])
    return mix


async def measure_bare(
    args: argparse.Namespace,
    workdir: Path,
    argv: list[str],
    runs: list[tuple[str, tuple[str, ...], float]],
) -> list[load.Run]:
    """`runs` (name, mix, seconds) against a bench server: `argv` is its script and what
    follows the port it is given."""
    port = world.free_port()
    command = [sys.executable, argv[0], str(port), *argv[1:]]
    name = runs[0][0]
    process = world.start(command, dict(os.environ), workdir / f"{name}.log", SERVER_CPU)
    url = f"http://127.0.0.1:{port}/wechat"
    try:
        await world.wait_until_up(url, [process])
        drive = _driver(args, workdir, url, [process.pid])
        await drive("warm-up", runs[0][1], 2)
        return [await drive(*run) for run in runs]
    finally:
        process.terminate()
        process.wait(timeout=15)


def _driver(args: argparse.Namespace, workdir: Path, url: str, pids: list[int]) -> load.Driver:
    async def drive(name: str, mix: tuple[str, ...], seconds: float) -> load.Run:
        script = workdir / "load.lua"
        load.script(
            script, url_path="/wechat", token=world.TOKEN, residents=args.residents, mix=mix
        )
        return await load.run(
            name,
            url,
            script,
            seconds=seconds,
            connections=args.connections,
            server_pids=pids,
            cpu=GENERATOR_CPU,
        )

    return drive


def report(
    args: argparse.Namespace,
    database: str,
    rounds: list[load.Run],
    small: load.Run,
    stored: Stored,
    reference: load.Run,
    reference_small: load.Run,
    floor: load.Run | None,
) -> int:
    backend = "PostgreSQL" if database.startswith("postgresql") else "SQLite"
    print(
        f"webhook benchmark, real mix on {backend} ({args.web_processes} web process(es)): "
        f"{args.connections} connections, {args.residents} residents, "
        f"{args.volunteers * 3} volunteers in 3 compounds of 2 communities, wrk on loopback"
    )
    if SERVER_CPU is not None:
        print(f"pinned: wrk on CPU {GENERATOR_CPU}, servers on CPU {SERVER_CPU}")
    print(reference.line())
    if floor is not None:
        print(floor.line(reference))
    for run in rounds:
        print(run.line(reference))
    print(reference_small.line())
    print(small.line(reference_small))
    print(stored.line())
    ratio = min(run.rate for run in rounds) / reference.rate
    p99 = max(run.p99_ms for run in rounds)
    growth = rounds[-1].rate / rounds[0].rate
    errors = sum(run.errors for run in rounds) + small.errors
    print(
        f"mix: worst ratio {ratio:.2f}x (target >= {MIN_RATIO}x), worst p99 {p99:.1f} ms "
        f"(< {MAX_P99_MS:.0f}), last/first round {growth:.2f} (>= {MIN_GROWTH}), errors {errors}"
    )
    if floor is not None:
        print(
            f"floor: the least work the mix needs (bench/floor_server.py) reaches "
            f"{floor.rate / reference.rate:.2f}x; Jinlin's worst round is "
            f"{min(run.rate for run in rounds) / floor.rate:.2f}x of the floor"
        )
    ok = stored.ok and errors == 0
    if backend != "SQLite":
        # The throughput targets are SQLite's: on PostgreSQL only correctness is judged.
        print("PASS (stored and error-free; speed targets apply to SQLite)" if ok else "FAIL")
        return 0 if ok else 1
    ok = ok and ratio >= MIN_RATIO and p99 < MAX_P99_MS and growth >= MIN_GROWTH
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
