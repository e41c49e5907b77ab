"""`jinlin broadcast send` and `list` through the command line's entry point: the audience count
and notice number, progress, and one-line errors with a non-zero exit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.broadcasting.engine import BroadcastEngine
from bot.cli.main import main
from bot.core.config import load_config
from bot.simulator.standin import STANDIN, create_standin
from bot.wechat.client import WeChatClient
from storage import org, users
from storage.db import open_database
from storage.types import utcnow
from tests.servers import serving

CONFIG = """
[database]
url = "{url}"
[wechat]
token = "jinlin-demo-token"
api_base_url = "{api}"
[org]
street = "示范街道"
community = "示范社区"
compounds = ["阳光花园", "幸福里"]
timezone = "Asia/Shanghai"
"""


async def jinlin(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_send_prints_the_audience_and_number_and_list_shows_progress(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_standin("wx0000000000000000", "")
    async with serving(app) as api:
        config_file = tmp_path / "config.toml"
        config_file.write_text(CONFIG.format(url=sqlite_url, api=api), encoding="utf-8")
        cfg = ["--config", str(config_file)]
        assert await jinlin("broadcast", "list", *cfg) == 0
        assert capsys.readouterr().out == "no notices yet\n"
        db = open_database(sqlite_url)
        async with db.transaction() as session:
            place = await org.ensure_place(
                session=session, street="示范街道", community="示范社区", compound="阳光花园"
            )
            arrived = await users.touch(
                session=session, arrivals={"oA": None, "oB": None}, at=utcnow()
            )
            for person in arrived.values():
                user = await users.by_id(session=session, user_id=person.id)
                user.compound_id, user.building = place.compound_id, "3"
        code = await jinlin(
            "broadcast", "send", "--text", "明天停水", "--compound", "阳光花园", *cfg
        )
        out = capsys.readouterr().out
        assert code == 0
        assert "audience: 2 recipients (阳光花园)" in out
        assert "notice 1 will be sent now" in out
        code = await jinlin(
            "broadcast", "send", "--text", "周六义诊", "--role", "volunteer", "--at", "08:00", *cfg
        )
        out = capsys.readouterr().out
        assert code == 0 and "audience: 0 recipients (志愿者)" in out
        assert "warning: nobody is in this audience" in out and "notice 2 will be sent at" in out
        config = load_config(config_file, env={})
        async with WeChatClient(config.wechat, db) as client:
            await BroadcastEngine(db, client, config).run_once()
        await db.close()
        assert {m.openid for m in app[STANDIN].messages()} == {"oA", "oB"}
        assert await jinlin("broadcast", "list", *cfg) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split()[:7] == [
            "notice",
            "state",
            "send",
            "at",
            "sent",
            "failed",
            "pending",
        ]
        assert lines[1].split()[:2] == ["2", "scheduled"]
        assert lines[2].split()[:2] == ["1", "done"]
        assert lines[2].split()[4:8] == ["2", "0", "0", "0"]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (["--compound", "不存在"], "jinlin: no compound named '不存在'"),
        (["--building", "3"], "jinlin: a building needs its compound"),
        (["--tag", "党员"], "jinlin: no tag named '党员'"),
        (["--at", "tomorrow"], "jinlin: --at: not a time: 'tomorrow'"),
        (["--at", "2020-01-01 08:00"], "jinlin: --at: 2020-01-01 08:00 is in the past"),
    ],
)
async def test_bad_names_and_times_are_one_line_errors_and_store_nothing(
    tmp_path: Path,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    error: str,
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(CONFIG.format(url=sqlite_url, api="http://127.0.0.1:9"), "utf-8")
    cfg = ["--config", str(config_file)]
    assert await jinlin("broadcast", "send", "--text", "明天停水", *options, *cfg) == 2
    err = capsys.readouterr().err
    assert err.startswith(error) and err.count("\n") == 1
    assert await jinlin("broadcast", "list", *cfg) == 0
    assert capsys.readouterr().out == "no notices yet\n"


async def test_one_compound_name_in_two_communities_asks_for_the_community(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Regression: a roster naming 阳光社区 beside the config's 示范社区 made two 阳光花园, and
    # --compound 阳光花园 answered "write it in full", which nothing could satisfy.
    config_file = tmp_path / "config.toml"
    config_file.write_text(CONFIG.format(url=sqlite_url, api="http://127.0.0.1:9"), "utf-8")
    cfg = ["--config", str(config_file)]
    assert await jinlin("db", "upgrade", *cfg) == 0
    db = open_database(sqlite_url)
    async with db.transaction() as session:
        for community in ("示范社区", "阳光社区"):
            await org.ensure_place(
                session=session, street="示范街道", community=community, compound="阳光花园"
            )
        await users.touch(session=session, arrivals={"oR": "message"}, at=utcnow())
    await db.close()
    assert await jinlin("broadcast", "send", "--text", "停水", "--compound", "阳光花园", *cfg) == 2
    err = capsys.readouterr().err
    assert "阳光花园 in 示范社区, 阳光花园 in 阳光社区" in err and "--community" in err
    assert "write it in full" not in err
    assert (
        await jinlin(
            "broadcast",
            "send",
            "--text",
            "停水",
            "--compound",
            "阳光花园",
            "--community",
            "阳光社区",
            *cfg,
        )
        == 0
    )
