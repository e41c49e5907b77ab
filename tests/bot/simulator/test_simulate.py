"""`jinlin simulate`: starts with no config, reuses its demo on a second start (WeChat's side
included), starts over with --reset, and talks to the webhook in safe mode too."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.core.errors import ConfigError
from bot.runtime import running
from bot.simulator.launch import simulation
from bot.simulator.personas import BY_OPENID, PHONES
from bot.simulator.saved import state_path
from bot.web.keys import RUNTIME
from storage import users, volunteers
from storage.models import HelpRequest
from storage.types import utcnow
from tests.conftest import REPO, make_config

WANG = "oDemoResWang"


async def _requests(demo: Any) -> int:
    async with demo.phones.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(HelpRequest)) or 0)


async def test_a_second_start_reuses_the_demo_and_reset_starts_over(
    tmp_path: Path, parser: Any
) -> None:
    db_path = tmp_path / "demo.db"
    async with simulation(db_path=db_path, port=0, parser=parser) as demo:
        await demo.phones.act(WANG, "text", "帮我买点菜")
        await demo.phones.set_back("oDemoVolLi", 2)
        assert await _requests(demo) == 1
    saved = json.loads(state_path(db_path).read_text(encoding="utf-8"))
    assert saved["chat"]["entries"][0]["text"] == "帮我买点菜"

    async with simulation(db_path=db_path, port=0, parser=parser) as demo:
        assert await _requests(demo) == 1
        assert demo.phones.chat.of(WANG)[0].text == "帮我买点菜"
        li = demo.phones.standin.window_of("oDemoVolLi")  # set back, not stale: kept
        assert li is not None and utcnow() - li.at > timedelta(hours=2)
        assert demo.phones.standin.menu  # installed before, still there
        assert demo.jinlin[RUNTIME].scheduler is not None  # follow-ups run in the demo

    async with simulation(db_path=db_path, port=0, parser=parser, reset=True) as demo:
        assert await _requests(demo) == 0
        assert demo.phones.chat.of(WANG) == []


async def test_every_kind_of_message_goes_through_the_webhook_encrypted_in_safe_mode(
    tmp_path: Path, parser: Any
) -> None:
    async with simulation(db_path=tmp_path / "demo.db", port=0, mode="safe", parser=parser) as demo:
        phones = demo.phones
        for _ in range(50):  # the menu is installed in the background at start
            if phones.menu_keys():
                break
            await asyncio.sleep(0.05)
        await phones.act(WANG, "voice", "帮我取个快递")
        await phones.act(WANG, "location")
        await phones.act(WANG, "click", key="MY_REQUESTS")
        await phones.act(WANG, "unsubscribe")
        await phones.act(WANG, "subscribe")
        chat = [(e.side, e.kind) for e in phones.chat.of(WANG)]
        replies = [e.text for e in phones.chat.of(WANG) if e.side == "bot"]
    assert chat[:2] == [("user", "voice"), ("bot", "reply")]
    assert "#1" in replies[0] and "跑腿" in replies[0]
    assert ("user", "location") in chat and ("user", "click") in chat
    assert any("#1" in text for text in replies[2:])  # 我的求助 lists the request
    assert chat[-2:] == [("user", "subscribe"), ("bot", "reply")]


async def test_a_persona_cannot_write_after_unfollowing(tmp_path: Path, parser: Any) -> None:
    from storage.errors import InvalidInput

    async with simulation(db_path=tmp_path / "demo.db", port=0, parser=parser) as demo:
        await demo.phones.act(WANG, "unsubscribe")
        with pytest.raises(InvalidInput, match="请先关注公众号"):
            await demo.phones.act(WANG, "text", "你好")
        async with aiohttp.ClientSession() as http:
            url = f"{demo.simulator_url}/api/personas/{WANG}/act"
            async with http.post(url, json={"kind": "text", "text": " "}) as response:
                assert response.status == 400
                assert (await response.json())["error"] == "请先关注公众号"


async def _start(cwd: Path, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINLIN_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "simulate",
        "--port",
        "0",
        *args,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while line := (await process.stdout.readline()).decode():
            if line.startswith("simulator: "):
                return process, line.removeprefix("simulator: ").strip()
    raise AssertionError(
        f"jinlin simulate printed no simulator address (exit {process.returncode})"
    )


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        return await process.wait()


async def test_jinlin_simulate_starts_without_a_config_and_saves_wechats_side_on_ctrl_c(
    tmp_path: Path,
) -> None:
    process, url = await _start(tmp_path)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        async with aiohttp.ClientSession() as http:
            act = f"{url}api/personas/{WANG}/act"
            async with http.post(act, json={"kind": "text", "text": "帮我修一下水龙头"}) as answer:
                assert answer.status == 200
            async with http.get(f"{url}?persona={WANG}") as page:
                html = await page.text()
        assert "帮我修一下水龙头" in html and "编号 #1" in html
    finally:
        assert await _stop(process) == 0
    assert (tmp_path / "jinlin-demo.db").is_file()
    saved = json.loads((tmp_path / "jinlin-demo.wechat.json").read_text(encoding="utf-8"))
    assert saved["chat"]["entries"][0]["text"] == "帮我修一下水龙头"


async def test_mass_sends_by_tag_and_by_openid_list_land_in_each_personas_chat(
    tmp_path: Path, parser: Any
) -> None:
    async with simulation(db_path=tmp_path / "demo.db", port=0, parser=parser) as demo:
        client = demo.jinlin[RUNTIME].client
        tag = await client.create_tag("志愿者")
        await client.tag_users(tag, ["oDemoVolChen", "oDemoVolLi"])
        await client.mass_send_to_tag(tag, "周六上午社区义诊，欢迎参加", "notice-1")
        await client.mass_send_to_openids(
            [WANG, "oDemoResLin"], "停水通知：明天9点到12点", "notice-2"
        )
        async with (
            aiohttp.ClientSession() as http,
            http.get(demo.jinlin_url + "/", allow_redirects=False) as root,
        ):
            assert root.headers["Location"] == demo.simulator_url + "/"
    chats = {
        openid: [(e.kind, e.text) for e in demo.phones.chat.of(openid)]
        for openid in ("oDemoVolChen", "oDemoVolLi", WANG, "oDemoResLin", "oDemoVolZhou")
    }
    assert chats["oDemoVolChen"] == chats["oDemoVolLi"] == [("mass", "周六上午社区义诊，欢迎参加")]
    assert chats[WANG] == chats["oDemoResLin"] == [("mass", "停水通知：明天9点到12点")]
    assert chats["oDemoVolZhou"] == []


async def test_simulate_refuses_a_database_that_holds_a_real_community(
    tmp_path: Path, parser: Any
) -> None:
    real = tmp_path / "jinlin.db"
    config = make_config(database={"url": f"sqlite+aiosqlite:///{real}"})
    async with running(config, scheduler=False):
        pass
    before = real.read_bytes()
    for reset in (False, True):
        with pytest.raises(ConfigError, match="is not a demo database"):
            async with simulation(db_path=real, port=0, reset=reset, parser=parser):
                pass
    assert real.read_bytes() == before


async def test_window_controls_move_wechats_and_jinlins_view_together(
    tmp_path: Path, parser: Any
) -> None:
    volunteer = "oDemoVolLi"
    async with (
        simulation(db_path=tmp_path / "demo.db", port=0, parser=parser) as demo,
        aiohttp.ClientSession() as http,
    ):
        api = f"{demo.simulator_url}/api/personas/{volunteer}"
        async with http.post(f"{api}/quota") as answer:
            assert answer.status == 200
        async with http.post(f"{api}/back", json={"hours": 3}) as answer:
            assert answer.status == 200
        async with http.post(f"{api}/back", json={"hours": "soon"}) as answer:
            assert (answer.status, (await answer.json())["error"]) == (400, "小时数不对")
        async with http.post(f"{demo.simulator_url}/api/personas/oNobody/quota") as answer:
            assert answer.status == 400
        window = demo.phones.standin.window_of(volunteer)
        async with demo.phones.db.transaction() as session:  # type: ignore[union-attr]
            user = await users.get(session=session, openid=volunteer)
    assert window is not None and window.sent == 5
    assert utcnow() - window.at > timedelta(hours=3) - timedelta(minutes=1)
    assert (user.last_interaction_at, user.cs_sent_since_interaction) == (window.at, 5)


async def _until_said(demo: Any, openid: str, words: str) -> str:
    """The first message in the persona's chat holding `words`, waiting up to 5 s for it."""
    for _ in range(500):
        for entry in demo.phones.chat.of(openid):
            if words in (entry.text or ""):
                return str(entry.text)
        await asyncio.sleep(0.01)
    raise AssertionError(f"{openid} was never told {words!r}")


async def test_the_demo_volunteer_listed_by_phone_binds_in_chat_once_a_worker_agrees(
    tmp_path: Path, parser: Any
) -> None:
    gao, zhou = "oDemoListedGao", "oDemoWorkerZhou"
    async with simulation(db_path=tmp_path / "demo.db", port=0, parser=parser) as demo:
        assert PHONES[gao] in BY_OPENID[gao].about  # the picker tells her number
        await demo.phones.act(gao, "text", f"绑定 {PHONES[gao]}")
        await _until_said(demo, gao, "已请社区工作人员确认")
        notice = await _until_said(demo, zhou, "绑定申请 #")
        number = re.search(r"绑定申请 #(\d+)", notice)[1]  # type: ignore[index]
        await demo.phones.act(zhou, "text", f"同意绑定 #{number}")
        await _until_said(demo, gao, "您已绑定为志愿者高阿姨")
        async with demo.phones.db.transaction() as session:
            user = await users.get(session=session, openid=gao)
            assert await volunteers.find(session=session, user_id=user.id) is not None
