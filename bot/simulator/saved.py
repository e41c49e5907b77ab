"""WeChat's side of the demo kept in a JSON file beside the demo database, so a restart of
`jinlin simulate` finds every persona's window, quota, follow and chat where it was."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from bot.simulator.chat import ChatLog
from bot.simulator.standin import StandinState

logger = logging.getLogger(__name__)

FORMAT = 1
EVERY = 1.0  # seconds between checks for something new to write


def state_path(db_path: Path) -> Path:
    """Where the stand-in's state of the demo database `db_path` is kept."""
    return db_path.with_name(db_path.stem + ".wechat.json")


def load(path: Path, state: StandinState) -> ChatLog | None:
    """Restore `state` from the file and return its chats; None when there is no usable file
    (then nothing in `state` has changed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        chat = ChatLog.from_json(data["chat"])
        scratch = StandinState(state.appid, state.secret)
        scratch.restore(data["standin"])  # a bad file must not leave `state` half restored
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("ignoring the simulator's saved state in %s: %s", path, exc)
        return None
    state.restore(data["standin"])
    return chat


def _write(path: Path, data: dict[str, Any]) -> None:
    # Whole or not at all: a crash while writing leaves the previous file.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


async def save(path: Path, state: StandinState, chat: ChatLog) -> None:
    """Write the state and chats now (off the event loop)."""
    data = {"format": FORMAT, "standin": state.snapshot(), "chat": chat.to_json()}
    await asyncio.to_thread(_write, path, data)


@asynccontextmanager
async def saving(path: Path, state: StandinState, chat: ChatLog) -> AsyncIterator[None]:
    """Write the file soon after each change while the block runs, and once more at its end."""

    async def keep_saved() -> None:
        written = -1
        while True:
            await asyncio.sleep(EVERY)
            if chat.version != written:
                written = chat.version
                try:
                    await save(path, state, chat)
                except OSError as exc:
                    logger.warning("could not save the simulator's state to %s: %s", path, exc)

    task = asyncio.create_task(keep_saved(), name="simulator-saver")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await save(path, state, chat)
