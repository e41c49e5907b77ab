"""A compound named not quite right is answered with the known names to pick from."""

from __future__ import annotations

from typing import Any

from storage.models import Status
from tests.handlers.community import community


async def test_a_close_name_in_an_answer_is_offered_by_number(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"], building="3")
        assert "哪个小区" in await c.say("oR", "帮我买点菜")
        reply = await c.say("oR", "阳光花苑3号楼")
        assert "您说的是：1阳光花园" in reply and "幸福里" not in reply
        reply = await c.say("oR", "1")
        assert "阳光花园3号楼" in reply and "1 位志愿者" in reply
        assert (await c.request(1)).status == Status.OFFERED


async def test_a_close_name_in_the_request_itself_is_offered_at_once(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        reply = await c.say("oR", "我住幸福理5号楼，帮我取个快递")
        assert "#1" in reply and "您说的是：1幸福里" in reply
        assert "幸福里5号楼" in await c.say("oR", "1")
        request = await c.request(1)
        assert (request.building, request.status) == ("5", Status.ESCALATED)


async def test_an_unknown_name_lists_every_compound_and_keeps_the_building(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.say("oR", "帮我买点菜")
        reply = await c.say("oR", "东湖苑5号楼")
        assert "是哪个小区？回复编号就行：1阳光花园 2幸福里" in reply
        assert "幸福里5号楼" in await c.say("oR", "2")


async def test_a_compound_picked_without_a_building_asks_the_building(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.say("oR", "帮我买点菜")
        await c.say("oR", "月亮湾")
        assert "好的，阳光花园。请问是几号楼" in await c.say("oR", "1")
        assert "阳光花园3号楼" in await c.say("oR", "3")
        assert (await c.request(1)).building == "3"


async def test_signing_up_with_a_close_name_picks_from_the_known_ones(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.say("oNew", "我想当志愿者")
        assert "哪个小区" in await c.say("oNew", "1 8")
        assert "您说的是：1幸福里" in await c.say("oNew", "幸福哩2号楼")
        assert "什么时间方便" in await c.say("oNew", "1")
        await c.say("oNew", "随时")
        assert "登记好了" in await c.say("oNew", "赵敏")
        await c.say("oR", "幸福里2号楼 帮我取个快递")
        assert any("#1" in t for t in await c.told("oNew"))
