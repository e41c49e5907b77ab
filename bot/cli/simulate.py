"""`jinlin simulate`: the demo, with no config file, until Ctrl+C."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from bot.cli.logs import setup_logging
from bot.simulator.demo import CONSOLE_PASSWORD, Mode
from bot.simulator.launch import simulation

logger = logging.getLogger(__name__)


def simulate(
    *, db_path: Path, host: str, port: int, simulator_port: int | None, mode: Mode, reset: bool
) -> int:
    """Run Jinlin and the simulator; print where the simulator is on a line of its own."""
    setup_logging("INFO")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with simulation(
            db_path=db_path,
            host=host,
            port=port,
            simulator_port=simulator_port,
            mode=mode,
            reset=reset,
        ) as demo:
            print(f"jinlin: {demo.jinlin_url}/wechat ({mode} mode, demo data in {db_path})")
            print(f"simulator: {demo.simulator_url}/")
            print(
                f"console: {demo.jinlin_url}/console/ "
                f"(周书记 or 黄主任, password {CONSOLE_PASSWORD})",
                flush=True,
            )
            logger.info("open the simulator in a browser; Ctrl+C stops both")
            await stop.wait()
        logger.info("simulator stopped; the demo is kept in %s", db_path)

    asyncio.run(run())
    return 0
