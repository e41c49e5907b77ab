"""Conversations that don't trap people: each point where a plain message once went wrong."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.web.keys import CONFIG
from handlers import followups
from storage import requests, users, volunteers
from storage.models import Status
from storage.types import utcnow
from tests.handlers.community import ADMIN, community


async def test_a_command_mid_signup_is_done_not_stored_as_the_name(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: sign-up once stored "我的任务" as a volunteer's name.
    async with community(sqlite_url, parser) as c:
        await c.say("oNew", "我想当志愿者")
        await c.say("oNew", "8")
        await c.say("oNew", "阳光花园2号楼")
        assert "怎么称呼" in await c.say("oNew", "随时")
        assert "报名还差几步" in await c.say("oNew", "我的任务")
        assert "直接说出您的需要" in await c.say("oNew", "帮助")
        assert "登记好了，赵敏" in await c.say("oNew", "赵敏")
        async with c.db.transaction() as session:
            user = await users.get(session=session, openid="oNew")
            volunteer = await volunteers.find(session=session, user_id=user.id)
        assert volunteer is not None and volunteer.name == "赵敏"


async def test_cancel_mid_question_with_nothing_to_cancel_ends_the_question(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.say("oNew", "我想当志愿者")
        assert "不用回答" in await c.say("oNew", "取消")
        assert "我没太明白" in await c.say("oNew", "2 8")


async def test_plain_yes_words_confirm_erasure(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        for n, yes in enumerate(("确定", "好的。", "是的")):
            openid = f"oR{n}"
            await c.say(openid, "阳光花园3号楼，帮我取个快递")
            assert "确认删除" in await c.say(openid, "删除我的信息")
            assert "已删除" in await c.say(openid, yes), yes
        await c.say("oKeep", "阳光花园3号楼，帮我取个快递")
        await c.say("oKeep", "删除我的信息")
        assert "已删除" not in await c.say("oKeep", "不删了")


async def test_saying_my_phone_adds_or_changes_it(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        assert "记下了：13712345678" in await c.say("oR", "我电话13712345678")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "改好了：13887654321" in await c.say("oR", "我的手机号换了，13887654321")
        details = await c.say("oV1", "接单")
        assert "13887654321" in details and "13712345678" not in details
        assert "记下了" in await c.say("oV1", "我电话13900002222")
        assert any("13900002222" in t for t in await c.told("oR"))  # relayed to the resident
        assert "13900002222" in await c.say("oR", "进度")


async def test_help_shows_a_community_worker_the_worker_commands(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        worker = await c.say(ADMIN, "帮助")
        assert "派单 #编号" in worker and "统计" in worker and "进度" in worker
        assert "群发" in worker and "同意绑定" in worker
        assert "派单" not in await c.say("oR", "帮助")


async def test_a_single_configured_compound_is_never_asked_for(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser, org={"compounds": ["阳光花园"]}) as c:
        # An import brought volunteers of another compound along: still only one configured.
        await c.volunteer("oFar", "远邻", ["errand"], compound="绿洲", community="别的社区")
        reply = await c.say("oR", "帮我取个快递")
        assert "阳光花园" in reply and "哪个小区" not in reply and "几号楼" in reply
        await c.say("oNew", "我想当志愿者")
        assert "哪个小区" not in await c.say("oNew", "8")


async def test_words_for_the_helper_are_relayed_while_a_place_question_waits(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        await c.say("oV1", "接单")
        assert "几号楼" in await c.say("oR", "帮我妈去药店买点降压药")
        assert "已转给志愿者王芳" in await c.say("oR", "我到楼下了")


async def test_not_knowing_the_compound_in_dialect_sends_the_request_not_a_new_one(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: 我也不晓得叫啥子小区 was read as a new request (#2, 助医) that took the
    # place given next, while the real one (#1) stayed unplaced.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["repair"])
        assert "哪个小区" in await c.say("oR", "我家水龙头坏了一直滴水能不能找个师傅来看看")
        reply = await c.say("oR", "我也不晓得叫啥子小区")
        assert "#2" not in reply and "好的" in reply
        async with c.db.transaction() as session:
            resident = await users.get(session=session, openid="oR")
            assert resident.id is not None
            assert len(await requests.of_resident(session=session, resident_id=resident.id)) == 1
        assert (await c.request(1)).status != Status.OPEN


async def test_assigning_a_paused_volunteer_tells_the_worker_they_paused(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: 派单 to a volunteer who had said 暂停接单 answered only 已把 #1 派给…,
    # so the worker counted on someone who had said they were away.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["repair"])
        await c.say("oV1", "暂停接单")
        assert "社区工作人员" in await c.say("oR", "阳光花园3号楼，家里灯坏了找人修一下")
        reply = await c.say(ADMIN, "派单 #1 王芳")
        assert "派给志愿者王芳" in reply and "暂停接单" in reply
        await c.say("oV1", "恢复接单")
        await c.say("oR2", "阳光花园3号楼，家里水管漏了找人修一下")
        assert "暂停" not in await c.say(ADMIN, "派单 #2 王芳")


async def test_changing_ones_mind_after_cancelling_says_how_to_ask_again(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: 算了还是不取消了 right after 取消 got only 您目前没有进行中的求助。
    async with community(sqlite_url, parser) as c:
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "已取消" in await c.say("oR", "取消")
        reply = await c.say("oR", "算了还是不取消了")
        assert "#1 已经取消了" in reply and "再说一次您的需要" in reply
        assert "不用取消" in await c.say("oNew", "取消")


async def test_a_plea_with_no_need_in_it_asks_what_is_needed(sqlite_url: str, parser: Any) -> None:
    # Regression: 帮帮我 became request #1 (其他, 需要：帮帮我), escalated to the workers, and
    # the need written next a second request.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand", "other"])
        reply = await c.say("oR", "帮帮我")
        assert "#1" in reply and "需要帮什么忙" in reply and "120" in reply
        assert (await c.request(1)).status == Status.OPEN and not await c.told(ADMIN)
        reply = await c.say("oR", "阳光花园3号楼，帮我买点菜")
        assert "编号 #1（跑腿）" in reply  # the same request, now with its need
        request = await c.request(1)
        assert request.status == Status.OFFERED and request.category == "errand"
        assert request.text == "帮帮我；阳光花园3号楼，帮我买点菜"
        assert "described" in [e.kind for e in await c.history(1)]
        assert len(await c.told("oV1")) == 1 and not await c.told(ADMIN)
        assert "编号 #2" in await c.say("oR", "帮我遛狗")  # a need, however short
        assert "情况紧急" in await c.say("oR2", "救救我")  # an emergency always goes out


async def test_a_plea_again_instead_of_the_need_asks_a_worker_to_call(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand", "other"])
        for plea in ("谁能帮帮我啊", "能帮我一下吗？"):
            await c.say("oR", plea)
        assert (await c.request(1)).status == Status.ESCALATED
        [whistle] = await c.told(ADMIN)
        assert "#1" in whistle and "没说是什么事" in whistle
        assert not await c.told("oV1")  # volunteers are not asked to guess


async def test_a_plea_nobody_answers_reaches_a_worker_after_the_offer_timeout(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand", "other"])
        await c.say("oR", "帮帮我")
        assert (await c.request(1)).status == Status.OPEN
        later = utcnow() + timedelta(minutes=11)
        await followups.sweep(c.db, c.server.app[CONFIG], later)
        assert (await c.request(1)).status == Status.ESCALATED
        assert any("没说是什么事" in text for text in await c.told(ADMIN))
        assert not await c.told("oV1")


async def test_a_bare_cancel_of_an_emergency_asks_once_before_calling_help_off(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: an elderly resident's stray 取消 called off an emergency at once.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["elderly", "medical"])
        assert "120" in await c.say("oR", "阳光花园3号楼，我家老人摔倒了起不来了")
        assert "确认取消" in await c.say("oR", "取消")
        assert "不取消" in await c.say("oR", "不")
        assert (await c.request(1)).status == Status.OFFERED
        assert not any("取消" in t for t in await c.told("oV1"))
        assert "确认取消" in await c.say("oR", "取消")
        assert "已取消" in await c.say("oR", "确认取消")
        assert (await c.request(1)).status == Status.CANCELLED
        # Named by its number, or not an emergency: cancelled at once, as before.
        await c.say("oR", "阳光花园3号楼，我家老人摔倒了起不来了")
        assert "已取消" in await c.say("oR", "取消 #2")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "已取消" in await c.say("oR", "取消")


async def test_the_question_a_cancel_interrupted_is_asked_again_when_it_is_kept(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["elderly", "medical"])
        assert "哪个小区" in await c.say("oR", "我家老人摔倒了起不来了")
        assert "确认取消" in await c.say("oR", "取消")
        assert "不取消" in await c.say("oR", "不要取消")
        assert "幸福里" in await c.say("oR", "幸福里5号楼")  # still the answer to 哪个小区
        request = await c.request(1)
        assert request.status == Status.OFFERED and request.building == "5"
