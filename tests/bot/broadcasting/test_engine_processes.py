"""A real `jinlin worker` killed with SIGKILL in the middle of a broadcast, at the worst moment
(WeChat sent a batch, the worker never heard back), and started again: everyone gets the
notice exactly once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.core.config import Config
from bot.simulator.standin import STANDIN, create_standin
from handlers.broadcast import rules_for
from storage import audience, broadcasts, migrate
from storage.audience import EVERYWHERE, AudienceSpec
from storage.db import open_database
from storage.models import BroadcastState
from tests.bot.broadcasting.rig import add_person
from tests.bot.scheduling.test_followup_processes import environment, free_port, process, tail
from tests.conftest import make_config
from tests.servers import serving

SEND = "/cgi-bin/message/mass/send"
PEOPLE = [f"oP{i:02}" for i in range(40)]


async def test_a_worker_killed_mid_broadcast_and_restarted_sends_to_everyone_exactly_once(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}"
    db = open_database(db_url)
    await migrate.upgrade(db)
    app = create_standin("wx0000000000000000", "", real_time=True)
    standin = app[STANDIN]
    config: Config = make_config(
        database={"url": db_url}, org={"street": "示范街道", "community": "示范社区"}
    )
    for openid in PEOPLE:
        await add_person(db, openid, standin.now())
    async with db.transaction() as session:
        chosen = await audience.resolve(session=session, spec=AudienceSpec(), scope=EVERYWHERE)
        notice = await broadcasts.create_broadcast(
            session=session,
            text="明天上午停水",
            audience=chosen,
            scope=EVERYWHERE,
            rules=await rules_for(session, config),
            created_by="test",
            now=standin.now(),
        )
    standin.hold_answer(SEND, 3)  # WeChat sends batch 3; its answer never reaches the worker
    async with serving(app) as api:
        env = {**environment(db_url, api, free_port()), "JINLIN_BROADCAST__BATCH_SIZE": "4"}
        with process(["worker"], env, tmp_path / "first.log") as first:
            try:
                await asyncio.wait_for(standin.held.wait(), timeout=30)
            except TimeoutError:
                raise AssertionError(tail(tmp_path / "first.log")) from None
            first.send_signal(signal.SIGKILL)
            first.wait()
        standin.release()
        assert len(standin.messages()) == 12  # batches 1-3 went out
        with process(["worker"], env, tmp_path / "second.log"):
            for _ in range(300):
                async with db.transaction() as session:
                    progress = await broadcasts.progress(
                        session=session, broadcast_id=notice.id or 0, scope=EVERYWHERE
                    )
                if progress.state == BroadcastState.DONE:
                    break
                await asyncio.sleep(0.1)
    await db.close()
    assert (progress.state, progress.sent, progress.failed) == (BroadcastState.DONE, 40, 0)
    received = [m.openid for m in standin.messages()]
    assert sorted(received) == PEOPLE  # every one of them, nobody twice
    ids = [body["clientmsgid"].rsplit("-", 1)[1] for body in standin.bodies[SEND]]
    assert ids == ["1", "2", "3", "3", *(str(n) for n in range(4, 11))]  # 3 again: 45065
