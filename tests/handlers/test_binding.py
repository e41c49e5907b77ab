"""Volunteers listed by phone: bound to their WeChat account in chat, once a worker approves."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from bot.roster.commands import import_volunteers
from storage.models import Status
from tests.conftest import make_config
from tests.handlers.community import ADMIN, Community, community

LIST = (
    "name,phone,skills,community,compound,building\n"
    "王阿姨,138 0013 8000,跑腿|助老,示范社区,阳光花园,3\n"
    "李师傅,13900139000,维修,示范社区,阳光花园,5\n"
)


async def listed(c: Community, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(LIST, encoding="utf-8")
    config = make_config(database={"url": db_url}, org={"street": "示范街道"})
    assert await import_volunteers(config, path, io.StringIO()) == 0


async def test_a_listed_volunteer_is_bound_only_once_a_worker_approves(
    db_url: str, parser: Any, tmp_path: Path
) -> None:
    async with community(db_url, parser) as c:
        await listed(c, db_url, tmp_path)
        assert "社区工作人员" in await c.say("oR", "阳光花园3号楼，帮我取个快递")  # nobody to offer
        assert "登记过志愿者吗" in await c.say("oWang", "我想当志愿者")
        reply = await c.say("oWang", "13800138000")
        assert "已请社区工作人员确认（申请 #1）" in reply and "王阿姨" not in reply
        notice = (await c.told(ADMIN))[-1]
        assert "志愿者绑定申请 #1" in notice and "王阿姨" in notice
        assert "138****8000" in notice and "13800138000" not in notice
        # Pending: no offer, no task, no phone or room reaches the account.
        await c.say("oR2", "阳光花园3号楼502，帮我取个快递，电话13712345678")
        assert "还不是志愿者" in await c.say("oWang", "接单 #2")
        assert "正在等社区工作人员确认" in await c.say("oWang", "我想当志愿者")
        assert not [t for t in await c.told("oWang") if "#2" in t or "137" in t]
        assert "没太明白" in await c.say("oStranger", "同意绑定 #1")  # only workers approve
        assert "已同意绑定 #1：志愿者王阿姨现在可以接单了" in await c.say(ADMIN, "同意绑定 #1")
        assert any("社区已确认" in t and "王阿姨" in t for t in await c.told("oWang"))
        assert "已经处理过了（已同意）" in await c.say(ADMIN, "同意绑定 #1")
        assert "已经是志愿者" in await c.say("oWang", "我想当志愿者")
        await c.say("oR3", "阳光花园3号楼，帮我取个快递")
        assert any("#3" in t for t in await c.told("oWang"))
        details = await c.say("oWang", "接单 #3")
        assert "#3" in details
        assert (await c.request(3)).status == Status.ACCEPTED


async def test_binding_by_command_and_a_refusal(
    sqlite_url: str, parser: Any, tmp_path: Path
) -> None:
    async with community(sqlite_url, parser) as c:
        await listed(c, sqlite_url, tmp_path)
        assert "请回复社区登记您时留的手机号" in await c.say("oLi", "绑定")
        assert "没有找到用这个号码登记的志愿者" in await c.say("oLi", "13700137000")
        assert "申请 #1" in await c.say("oLi", "139 0013 9000")
        # Someone else claiming the same phone: a second claim the worker sees apart.
        assert "申请 #2" in await c.say("oFake", "绑定 13900139000")
        assert "已拒绝绑定 #2" in await c.say(ADMIN, "拒绝绑定 #2")
        assert any("未通过" in t for t in await c.told("oFake"))
        assert "已同意绑定 #1" in await c.say(ADMIN, "同意绑定 #1")
        assert "没有找到绑定申请 #9" in await c.say(ADMIN, "同意绑定 #9")
        assert "格式：同意绑定 #编号" in await c.say(ADMIN, "同意绑定")


async def test_approving_one_claim_withdraws_the_others_and_a_second_cannot_bind(
    sqlite_url: str, parser: Any, tmp_path: Path
) -> None:
    async with community(sqlite_url, parser) as c:
        await listed(c, sqlite_url, tmp_path)
        await c.say("oLi", "绑定 13900139000")
        await c.say("oFake", "绑定 13900139000")
        assert "已同意绑定 #1" in await c.say(ADMIN, "同意绑定 #1")
        assert any("未通过" in t for t in await c.told("oFake"))
        assert "已经处理过了（已撤回）" in await c.say(ADMIN, "同意绑定 #2")


async def test_someone_not_listed_signs_up_as_before(
    sqlite_url: str, parser: Any, tmp_path: Path
) -> None:
    async with community(sqlite_url, parser) as c:
        await listed(c, sqlite_url, tmp_path)
        await c.say("oNew", "我想当志愿者")
        assert "没有找到这个号码的登记，我们直接报名吧" in await c.say("oNew", "13600136000")
        assert "哪个小区" in await c.say("oNew", "1 8")
        await c.say("oNew", "幸福里2号楼")
        await c.say("oNew", "随时")
        assert "登记好了，赵敏" in await c.say("oNew", "赵敏")
        await c.say("oOther", "我想当志愿者")
        assert "只需回答几个问题" in await c.say("oOther", "没有")
