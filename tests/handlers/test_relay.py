"""The volunteer and the resident talking through the account, through the webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from handlers import followups
from storage import requests
from storage.models import Status
from storage.types import utcnow
from tests.conftest import make_config
from tests.handlers.community import ADMIN, Community, community
from tests.handlers.test_wechat_delivery import received

WANG_PHONE = "13900001111"
CHEN_PHONE = "13722223333"


async def _delivered(c: Community, openid: str) -> None:
    """Wait until nothing queued for `openid` is left to send."""
    for _ in range(200):
        if all(r.status not in ("pending", "sending") for r in await c.outbox(openid)):
            return
        await asyncio.sleep(0.02)
    rows = [(r.text[:20], r.status, r.last_error) for r in await c.outbox(openid)]
    raise AssertionError(f"messages to {openid} still queued: {rows}")


@asynccontextmanager
async def talking(
    url: str, parser: Any, *, phone: str | None = None, ask: str | None = None
) -> AsyncIterator[Community]:
    """A community where 王阿姨 has taken 陈's errand: the two are in a conversation."""
    async with community(url, parser) as c:
        await c.volunteer("oWang", "王阿姨", ["errand"], phone=phone)
        await _accepted(c, ask=ask)
        yield c


async def _accepted(c: Community, *, resident: str = "oChen", ask: str | None = None) -> str:
    """王阿姨 takes the resident's errand; the task's details she got."""
    await c.say(resident, ask or "阳光花园3号楼，帮我去超市买点菜")
    return await c.say("oWang", "接单")


async def test_a_relay_goes_both_ways_between_the_volunteer_and_the_resident(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: after accepting, 陈阿姨's "我下午四点送过去" became a new urgent request offered
    # back to her, and "好的，我明天九点到" got "我没太明白您的意思".
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oWang", "王阿姨", ["errand"], phone=WANG_PHONE)
        details = await _accepted(c)
        assert "直接在这里回复" in details
        assert any("直接在这里回复" in t for t in await c.told("oChen"))

        assert await c.say("oWang", "我下午四点送过去") == "已转给求助居民（#1）。"
        assert "已转给求助居民（#1）" in await c.say("oWang", "好的，我明天九点到")
        assert "已转给志愿者王阿姨（#1）" in await c.say("oChen", "门口等你")
        assert "已转给志愿者王阿姨" in await c.say("oChen", "你大概几点到？")

        await received(c, "oChen", 2)  # WeChat carries them (merged when queued together)
        chen = "\n\n".join(m.text or "" for m in c.server.standin.messages("oChen"))
        assert "#1 志愿者王阿姨：我下午四点送过去" in chen.split("\n\n")
        assert "#1 志愿者王阿姨：好的，我明天九点到" in chen.split("\n\n")
        assert "#1 求助居民：门口等你" in await c.told("oWang")
        async with c.db.transaction() as session:
            made = await requests.in_status(session=session, statuses=list(Status))
        assert [r.id for r in made] == [1], "no new request was made of the talk"
        relayed = [(e.actor, e.note) for e in await c.history(1) if e.kind == "relayed"]
        assert relayed == [
            ("oWang", "我下午四点送过去"),
            ("oWang", "好的，我明天九点到"),
            ("oChen", "门口等你"),
            ("oChen", "你大概几点到？"),
        ]


async def test_a_clearly_new_need_in_a_relay_is_a_new_request(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oWang", "王阿姨", ["errand"])
        await c.volunteer("oLi", "李师傅", ["repair"])
        await _accepted(c)
        reply = await c.say("oChen", "我家水管漏水了，能找人修一下吗")
        assert "#2" in reply and "维修" in reply
        assert not any("水管" in t for t in await c.told("oWang"))
        assert any("#2" in t for t in await c.told("oLi"))
        # A problem told without asking: relayed, with the way to ask for help shown.
        reply = await c.say("oChen", "厨房的灯也坏了")
        assert "已转给志愿者王阿姨" in reply and "帮我" in reply


async def test_with_several_open_tasks_the_number_picks_one_or_the_bot_asks(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser, routing={"offer_batch": 1}) as c:
        await c.volunteer("oWang", "王阿姨", ["errand"], task_limit=3)
        await _accepted(c, resident="oChen")
        await _accepted(c, resident="oZhao", ask="阳光花园5号楼，帮我取个快递")
        question = await c.say("oWang", "我到楼下了")
        assert "#1" in question and "#2" in question and "转给谁" in question
        assert "已转给求助居民（#2）" in await c.say("oWang", "2")
        assert "#2 志愿者王阿姨：我到楼下了" in await c.told("oZhao")
        assert not any("我到楼下了" in t for t in await c.told("oChen"))

        assert "已转给求助居民（#1）" in await c.say("oWang", "#1 马上到")
        assert "#1 志愿者王阿姨：马上到" in await c.told("oChen")
        assert "不是您正在进行" in await c.say("oWang", "#7 马上到")
        # The question is dropped by anything but a number: read afresh.
        await c.say("oWang", "在家吗")
        assert "已转给求助居民（#1）" not in await c.say("oWang", "我的任务")


async def test_the_relay_closes_with_the_request_and_both_are_told(
    sqlite_url: str, parser: Any
) -> None:
    async with talking(sqlite_url, parser) as c:
        await c.say("oWang", "完成 #1")
        assert "已转给求助居民" in await c.say("oWang", "菜放门口了")  # still open until closed
        reply = await c.say("oChen", "评价 #1 5分")
        assert "不再转达" in reply
        assert any("5 分" in t and "不再转达" in t for t in await c.told("oWang"))
        assert "已转给" not in await c.say("oChen", "在吗")
        assert not any("在吗" in t for t in await c.told("oWang"))


async def test_a_cancelled_request_ends_the_relay_with_a_notice(
    sqlite_url: str, parser: Any
) -> None:
    async with talking(sqlite_url, parser) as c:
        assert "不再转达" in await c.say("oChen", "取消 #1")
        assert any("已取消" in t and "不再转达" in t for t in await c.told("oWang"))


async def test_an_auto_closed_request_tells_both_the_relay_is_over(
    sqlite_url: str, parser: Any
) -> None:
    async with talking(sqlite_url, parser) as c:
        await c.say("oWang", "完成 #1")
        config = make_config(database={"url": sqlite_url})
        await followups.sweep(c.db, config, utcnow() + timedelta(days=4))
        assert (await c.request(1)).status == Status.CLOSED
        for openid in ("oChen", "oWang"):
            assert any("#1 已结束" in t for t in await c.told(openid)), openid


async def test_a_relay_the_window_blocks_waits_and_gives_the_phone(
    sqlite_url: str, parser: Any
) -> None:
    async with talking(
        sqlite_url,
        parser,
        phone=WANG_PHONE,
        ask=f"阳光花园3号楼，帮我去超市买点菜，电话{CHEN_PHONE}",
    ) as c:
        await c.away("oWang")
        reply = await c.say("oChen", "门口等你")
        assert "收不到" in reply and "下次给公众号发消息" in reply and WANG_PHONE in reply
        await c.away("oChen")
        reply = await c.say("oWang", "我到楼下了")
        assert "收不到" in reply and CHEN_PHONE in reply
        # 王阿姨 writing brought her what waited for her.
        await _delivered(c, "oWang")
        got = c.server.standin.messages("oWang")
        assert any("#1 求助居民：门口等你" in (m.text or "") for m in got)


async def test_a_relayed_emergency_is_also_handled_as_one(sqlite_url: str, parser: Any) -> None:
    async with talking(sqlite_url, parser) as c:
        reply = await c.say("oChen", "我妈突然晕倒了，快来")
        assert "120" in reply and "已通知社区值班人员" in reply and "已转给志愿者王阿姨" in reply
        assert any("紧急" in t and "晕倒" in t for t in await c.told(ADMIN))
        assert "#1 求助居民：我妈突然晕倒了，快来" in await c.told("oWang")
        assert "emergency" in [e.kind for e in await c.history(1)]


async def test_relayed_words_are_erased_and_purged_with_the_request(
    sqlite_url: str, parser: Any
) -> None:
    async with talking(sqlite_url, parser) as c:
        await c.say("oWang", "我到3号楼下了")
        await c.say("oChen", "门口等你")
        await c.say("oChen", "删除我的信息")
        await c.say("oChen", "确定")
        relayed = [e for e in await c.history(1) if e.kind == "relayed"]
        assert len(relayed) == 2 and all(e.note is None for e in relayed)

        await _accepted(c, resident="oZhao", ask="阳光花园5号楼，帮我取个快递")
        await c.say("oZhao", "放门卫就行")
        await c.say("oZhao", "取消 #2")
        config = make_config(database={"url": sqlite_url})
        await followups.purge(c.db, config, utcnow() + timedelta(days=181))
        assert [e.note for e in await c.history(2) if e.kind == "relayed"] == [None]


async def test_relayed_messages_count_against_wechats_quota(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oWang", "王阿姨", ["errand"], phone=WANG_PHONE)
        await c.say("oWang", "我的任务")  # she wrote: WeChat has her window open
        await c.say("oChen", "阳光花园3号楼，帮我去超市买点菜")
        await _delivered(c, "oWang")  # the offer reached her
        await c.say("oWang", "接单")  # her last message: five customer-service messages follow
        for n in range(5):
            assert "已转给志愿者王阿姨" in await c.say("oChen", f"第{n + 1}件事")
            await _delivered(c, "oWang")  # each its own message, not merged with the next
        reply = await c.say("oChen", "还有一件事")
        assert "收不到" in reply and WANG_PHONE in reply
