"""The mutual-aid loop through the webhook: ask, place, offer, accept, done, score."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any

import pytest

from bot.cli.logs import setup_logging
from bot.core.inbound import Inbound
from bot.web.keys import DISPATCHER
from storage import org, users
from storage.db import open_database
from storage.errors import NotFound
from storage.models import Status
from tests.handlers.community import ADMIN, community

PHONE = "13912345678"


async def test_first_request_asks_the_place_once_and_remembers_it(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"], building="3")
        reply = await c.say("oR", "帮我买点菜")
        assert "#1" in reply and "跑腿" in reply and "哪个小区" in reply
        assert await c.told("oV1") == []
        reply = await c.say("oR", "阳光花园3号楼")
        assert "阳光花园3号楼" in reply and "1 位志愿者" in reply
        assert len(await c.told("oV1")) == 1
        reply = await c.say("oR", "明天上午帮我取个快递")
        assert "#2" in reply and "阳光花园3号楼" in reply and "几号楼" not in reply
        assert (await c.request(2)).status == Status.OFFERED


async def test_a_request_for_someone_else_asks_their_place_and_keeps_the_senders_home(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["medical"], compound="幸福里", building="5")
        await c.say("oDaughter", "帮我买点菜")
        await c.say("oDaughter", "阳光花园3号楼")
        reply = await c.say("oDaughter", "帮我妈去药店买点降压药")
        assert "为您母亲" in reply and "哪个小区" in reply
        reply = await c.say("oDaughter", "幸福里5号楼")
        assert "幸福里5号楼" in reply
        request = await c.request(2)
        assert (request.building, request.beneficiary) == ("5", "我妈")
        async with c.db.transaction() as session:
            daughter = await users.get(session=session, openid="oDaughter")
        assert daughter.building == "3"


async def test_offers_go_to_the_best_few_of_the_nearest_tier(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser, routing={"offer_batch": 2}) as c:
        await c.volunteer("oFar", "远邻", ["errand"], compound="幸福里", building="1")
        await c.volunteer(
            "oOtherStreet", "别社区", ["errand"], compound="绿洲", community="别的社区"
        )
        await c.volunteer("oSameBuilding", "同楼", ["errand"], building="3")
        await c.volunteer("oCompound", "同小区", ["errand"], building="8")
        await c.volunteer("oCompound2", "同小区二", ["errand"], building="9")
        await c.volunteer("oWrongSkill", "修理工", ["repair"], building="3")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        offered = {
            o
            for o in (
                "oFar",
                "oOtherStreet",
                "oSameBuilding",
                "oCompound",
                "oCompound2",
                "oWrongSkill",
            )
            if await c.told(o)
        }
        assert "oSameBuilding" in offered and len(offered) == 2
        assert offered <= {"oSameBuilding", "oCompound", "oCompound2"}


async def test_the_circle_widens_to_the_community_when_the_compound_has_nobody(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oFar", "远邻", ["errand"], compound="幸福里", building="1")
        reply = await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "本社区" in reply
        assert await c.told("oFar")
        assert (await c.request(1)).tier == 1


async def test_paused_busy_and_unavailable_volunteers_get_no_offer(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser, routing={"offer_batch": 5}) as c:
        await c.volunteer("oPaused", "休息", ["errand"])
        await c.volunteer("oBusy", "忙碌", ["errand"], task_limit=1)
        await c.volunteer(
            "oEvening", "晚上", ["errand"], availability=["weekday_evening", "weekend_evening"]
        )
        await c.volunteer("oFree", "空闲", ["errand"])
        await c.say("oPaused", "暂停接单")
        await c.say("oR0", "阳光花园3号楼，帮我修下灯")  # repair: nobody, escalated
        await c.say("oR1", "阳光花园3号楼，帮我取个快递")
        await c.say("oBusy", "接单 #2")
        await c.say("oR2", "阳光花园5号楼，明天上午十点帮我取个快递")
        assert any("#3" in t for t in await c.told("oFree"))
        for idle in ("oPaused", "oBusy", "oEvening"):
            assert not any("#3" in t for t in await c.told(idle)), idle


async def test_offers_never_show_the_phone_or_room_only_the_accepter_gets_them(
    sqlite_url: str, parser: Any
) -> None:
    log = io.StringIO()
    handler = setup_logging("DEBUG", log)
    try:
        await _offer_and_accept_with_a_phone(sqlite_url, parser)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    assert log.getvalue(), "the run logged nothing at DEBUG"
    assert PHONE not in log.getvalue()


async def _offer_and_accept_with_a_phone(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser, routing={"offer_batch": 2}) as c:
        await c.volunteer("oV1", "王芳", ["medical"])
        await c.volunteer("oV2", "李强", ["medical"])
        await c.say("oR", f"阳光花园3栋2单元501 明天下午三点谁能陪我妈去医院 我电话{PHONE}")
        offers = await c.told("oV1") + await c.told("oV2")
        assert len(offers) == 2
        for text in offers:
            assert PHONE not in text and "501" not in text
            assert "阳光花园3号楼" in text and "助医" in text and "15:00" in text
        details = await c.say("oV2", "接单 #1")
        assert PHONE in details and "501" in details
        assert any("已由其他志愿者接单" in t for t in await c.told("oV1"))
        assert any("李强" in t for t in await c.told("oR"))


async def test_concurrent_accepts_have_exactly_one_winner(db_url: str, parser: Any) -> None:
    async with community(db_url, parser, routing={"offer_batch": 4}) as c:
        names = ["甲", "乙", "丙", "丁"]
        for i, name in enumerate(names):
            await c.volunteer(f"oV{i}", name, ["errand"])
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        replies = await asyncio.gather(*(c.say(f"oV{i}", "接单 #1") for i in range(4)))
        winners = [r for r in replies if r.startswith("任务 #1")]
        assert len(winners) == 1
        assert sum("被其他志愿者接走" in r for r in replies) == 3
        request = await c.request(1)
        assert request.status == Status.ACCEPTED
        assert [e.kind for e in await c.history(1)].count("accepted") == 1


async def test_concurrent_accepts_on_two_server_processes(parser: Any, pg_server: str) -> None:
    from storage.db import open_database
    from tests.conftest import _truncate

    db = open_database(pg_server)
    await _truncate(db)
    await db.close()
    async with (
        community(pg_server, parser, routing={"offer_batch": 4}) as first,
        community(pg_server, parser, routing={"offer_batch": 4}) as second,
    ):
        for i in range(4):
            await first.volunteer(f"oP{i}", f"志愿者{i}", ["errand"])
        await first.say("oR", "阳光花园3号楼，帮我取个快递")
        servers = [first, second, first, second]
        replies = await asyncio.gather(*(s.say(f"oP{i}", "接单 #1") for i, s in enumerate(servers)))
        assert sum(r.startswith("任务 #1") for r in replies) == 1


async def test_only_the_accepting_volunteer_can_complete(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.volunteer("oV2", "李强", ["errand"])
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        await c.say("oV1", "接单 #1")
        assert "不是您正在做的任务" in await c.say("oV2", "完成 #1")
        assert (await c.request(1)).status == Status.ACCEPTED
        reply = await c.say("oV1", "已完成")
        assert "#1 已完成" in reply
        assert any("评价 #1" in t for t in await c.told("oR"))


async def test_a_score_for_someone_elses_request_is_refused(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        await c.say("oV1", "接单 #1")
        await c.say("oV1", "完成 #1")
        assert "不是您发起的" in await c.say("oStranger", "评价 #1 1分")
        assert (await c.request(1)).score is None
        assert "5 分" in await c.say("oR", "五星好评")
        request = await c.request(1)
        assert (request.status, request.score) == (Status.CLOSED, 5)
        assert "已经评价过" in await c.say("oR", "评价 #1 4分")
        assert "5.0 分" in await c.say("oV1", "我的时长")


async def test_cancelling_mid_offer_tells_the_offered_volunteers(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "已取消" in await c.say("oR", "不用了，取消吧")
        assert any("已取消求助 #1" in t for t in await c.told("oV1"))
        assert "不用再接" in await c.say("oV1", "接单 #1")
        assert (await c.request(1)).status == Status.CANCELLED


async def test_a_declined_offer_goes_to_the_next_volunteer(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser, routing={"offer_batch": 1}) as c:
        await c.volunteer("oV1", "王芳", ["errand"], building="3")
        await c.volunteer("oV2", "李强", ["errand"], building="6")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert await c.told("oV1") and not await c.told("oV2")
        await c.say("oV1", "这次去不了")
        assert any("#1" in t for t in await c.told("oV2"))


async def test_giving_back_an_accepted_task_reoffers_it(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser, routing={"offer_batch": 1}) as c:
        await c.volunteer("oV1", "王芳", ["errand"], building="3")
        await c.volunteer("oV2", "李强", ["errand"], building="6")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        await c.say("oV1", "接单")
        assert "已放弃" in await c.say("oV1", "放弃 #1")
        assert (await c.request(1)).status == Status.OFFERED
        assert any("另找志愿者" in t for t in await c.told("oR"))
        assert any("#1" in t for t in await c.told("oV2"))


async def test_an_emergency_advises_calling_and_alerts_at_once(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["medical"])
        reply = await c.say("oR", "我爸摔倒了起不来 阳光花园3号楼")
        assert "120" in reply
        assert any("紧急" in t for t in await c.told(ADMIN))
        assert any("紧急" in t for t in await c.told("oV1"))


async def test_no_volunteer_escalates_and_an_admin_assigns(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        reply = await c.say("oR", "阳光花园3号楼，家里灯坏了找人修一下")
        assert "社区工作人员" in reply
        assert any("社区吹哨" in t and "派单 #1" in t for t in await c.told(ADMIN))
        assert (
            "派单" not in await c.say("oR", "派单 #1 王芳")
            or (await c.request(1)).volunteer_id is None
        )
        assert "派给志愿者王芳" in await c.say(ADMIN, "派单 #1 王芳")
        assert any("指派" in t and "任务 #1" in t for t in await c.told("oV1"))
        assert (await c.request(1)).status == Status.ACCEPTED
        assert "志愿者 1 人" in await c.say(ADMIN, "统计")


async def test_volunteer_signs_up_in_chat_and_gets_offers(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        assert "您能帮哪些忙" in await c.say("oNew", "我想当志愿者")
        assert "哪个小区" in await c.say("oNew", "1 8")
        assert "什么时间方便" in await c.say("oNew", "幸福里2号楼")
        assert "怎么称呼" in await c.say("oNew", "随时")
        assert "登记好了，赵敏" in await c.say("oNew", "赵敏 138 1234 5678")
        assert "已经是志愿者" in await c.say("oNew", "我想当志愿者")
        await c.say("oR", "幸福里2号楼 帮我取个快递")
        assert any("#1" in t for t in await c.told("oNew"))
        details = await c.say("oNew", "接单")
        assert details.startswith("任务 #1")
        assert any("13812345678" in t for t in await c.told("oR"))
        assert "进行中" in await c.say("oNew", "我的任务")


async def test_pause_and_resume(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        # Saying it in a sentence takes nothing (there is nothing to give back) and points to
        # the command.
        assert "回复“暂停接单”" in await c.say("oV1", "这周我出差，先不接单了")
        assert "已暂停" in await c.say("oV1", "暂停接单")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert not await c.told("oV1")
        assert "恢复接单" in await c.say("oV1", "恢复接单")
        await c.say("oR2", "阳光花园3号楼，帮我取个快递")
        assert any("#2" in t for t in await c.told("oV1"))


async def test_erasing_my_data_keeps_only_anonymous_counts(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oR", f"阳光花园3号楼502，帮我取个快递，电话{PHONE}")
        assert "确认删除" in await c.say("oR", "删除我的信息")
        assert "已删除" in await c.say("oR", "确认删除")
        request = await c.request(1)
        assert (request.text, request.phone, request.room, request.status) == (
            None,
            None,
            None,
            Status.CANCELLED,
        )
        assert request.category == "errand"
        async with c.db.transaction() as session:
            with pytest.raises(NotFound):
                await users.get(session=session, openid="oR")
        assert all(e.actor != "oR" for e in await c.history(1))


async def test_nothing_understood_gets_a_helpful_answer(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        reply = await c.say("oR", "哈哈哈")
        assert "帮助" in reply
        assert "还不是志愿者" in await c.say("oR", "接单 #3")
        assert re.search("进行中的求助", await c.say("oR", "进度"))


async def test_menu_buttons_are_shortcuts(sqlite_url: str, parser: Any) -> None:
    from handlers import menu

    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        push = c.server.wechat

        async def click(openid: str, key: str, at: int) -> str:
            answer = await push.post(push.event_xml(openid, "CLICK", key=key, created=at))
            return answer.content or ""

        assert "帮我买点菜" in await click("oR", menu.HOW_TO_ASK, 1)
        assert "进行中的求助" in await click("oR", menu.MY_REQUESTS, 2)
        assert "您能帮哪些忙" in await click("oNew", menu.VOLUNTEER, 3)
        assert "还不是志愿者" in await click("oR", menu.MY_TASKS, 4)
        assert "没有任务" in await click("oV1", menu.MY_TASKS, 5)
        assert "累计志愿时长" in await click("oV1", menu.MY_HOURS, 6)


async def test_the_scheduling_process_installs_the_menu(sqlite_url: str, parser: Any) -> None:
    from handlers.menu import MENU
    from tests.conftest import make_config
    from tests.servers import jinlin

    config = make_config(database={"url": sqlite_url})
    async with jinlin(config, parser, scheduler=True) as server:
        for _ in range(100):
            if server.standin.menu is not None:
                break
            await asyncio.sleep(0.05)
        assert server.standin.menu == MENU


async def test_a_compound_created_by_another_process_is_understood_by_the_next_message(
    db_url: str, parser: Any
) -> None:
    # Names of their own per backend: the session's parser remembers what it learnt.
    backend = "甲" if db_url.startswith("sqlite") else "乙"
    async with community(db_url, parser) as c:
        assert "您好" in await c.say("oR", "你好")  # the server has read the places once
        other = open_database(db_url)  # an import or the console, in a process of its own
        try:
            async with other.transaction() as session:
                place = await org.ensure_place(
                    session=session,
                    street="示范街道",
                    community="示范社区",
                    compound=f"翠湖新村{backend}",
                )
                await org.add_aliases(
                    session=session, compound_id=place.compound_id, names=[f"翠湖{backend}园"]
                )
        finally:
            await other.close()
        reply = await c.say("oR", f"我住翠湖新村{backend}2号楼 帮我取个快递")
        assert f"翠湖新村{backend}2号楼" in reply and "哪个小区" not in reply
        reply = await c.say("oR2", f"我住翠湖{backend}园5号楼 帮我取个快递")
        assert f"翠湖新村{backend}5号楼" in reply and "哪个小区" not in reply


async def test_a_volunteer_erasing_their_data_hands_their_tasks_on(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser, routing={"offer_batch": 1}) as c:
        await c.volunteer("oV1", "王芳", ["errand"], building="3")
        await c.volunteer("oV2", "李强", ["errand"], building="6")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        await c.say("oV1", "接单 #1")
        await c.say("oV1", "删除我的信息")
        assert "已删除" in await c.say("oV1", "确认删除")
        request = await c.request(1)
        assert request.status == Status.OFFERED and request.volunteer_id is None
        assert any("#1" in t for t in await c.told("oV2"))
        assert any("另找志愿者" in t for t in await c.told("oR"))


async def test_a_volunteer_who_unfollows_gets_no_offers_until_back(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        push = c.server.wechat
        await push.post(push.event_xml("oV1", "unsubscribe", created=1))
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert not await c.told("oV1")
        back = await push.post(push.event_xml("oV1", "subscribe", created=2))
        assert "恢复接单" in (back.content or "")
        await c.say("oV1", "恢复接单")
        await c.say("oR2", "阳光花园3号楼，帮我取个快递")
        assert any("#2" in t for t in await c.told("oV1"))


async def test_a_users_messages_in_one_batch_see_each_others_questions(
    sqlite_url: str, parser: Any
) -> None:
    # Queued back to back, both messages are handled in one transaction: the second must
    # answer the question the first one asked, not start over.
    async with community(sqlite_url, parser) as c:
        dispatcher = c.server.app[DISPATCHER]
        first, second = (
            dispatcher.submit(Inbound("oNew", "text", 1, msg_id=str(n), text=text, account="gh"))
            for n, text in ((1, "我想当志愿者"), (2, "1 8"))
        )
        assert "您能帮哪些忙" in await first
        assert "哪个小区" in await second


async def test_a_volunteer_saying_no_in_a_sentence_declines_rather_than_accepts(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert any("#1" in t for t in await c.told("oV1"))
        assert "这次不用您去了" in await c.say("oV1", "这周我出差，先不接单了")
        assert (await c.request(1)).status != Status.ACCEPTED
