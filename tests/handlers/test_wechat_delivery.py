"""What people are told reaches them through WeChat's API (a stand-in on loopback)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.simulator.standin import Delivered
from tests.handlers.community import Community, community


async def received(
    c: Community, openid: str, count: int = 1, within: float = 8.0
) -> list[Delivered]:
    """Wait until `openid` has received `count` messages through the stand-in."""
    for _ in range(int(within / 0.05)):
        got = c.server.standin.messages(openid)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.05)
    return c.server.standin.messages(openid)


async def test_an_offer_reaches_a_volunteer_inside_the_window_as_a_customer_message(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oV1", "我的任务")  # the volunteer's own message opens the 48-hour window
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        got = await received(c, "oV1")
        assert [m.kind for m in got] == ["custom"]
        assert "接单 #1" in (got[0].text or "")


async def test_outside_the_window_a_template_message_is_sent(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser, wechat={"template_id": "TPL-NOTICE"}) as c:
        c.server.standin.add_template("TPL-NOTICE")
        await c.volunteer("oV1", "王芳", ["errand"], wrote=False)  # imported: never wrote
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        got = await received(c, "oV1")
        assert [m.kind for m in got] == ["template"]
        assert "#1" in str(got[0].data)


async def test_an_expired_token_is_refreshed_and_the_message_still_arrives(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oV1", "我的任务")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert await received(c, "oV1")
        fetches = c.server.standin.token_fetches
        c.server.standin.advance(7300)  # WeChat's token (7200 s) has expired
        c.server.standin.interact("oV1")
        await c.say("oR2", "阳光花园3号楼，帮我买瓶酱油")
        got = await received(c, "oV1", 2)
        assert len(got) == 2 and "#2" in (got[1].text or "")
        assert c.server.standin.token_fetches == fetches + 1


async def test_answering_a_template_with_a_word_is_told_what_follows_not_misunderstood(
    sqlite_url: str, parser: Any
) -> None:
    # A volunteer back after two days answers the template's "回复公众号查看详情" with 收到: the
    # offers follow the reply, which used to say "我没太明白您的意思。需要帮忙的话……".
    async with community(sqlite_url, parser, wechat={"template_id": "TPL-NOTICE"}) as c:
        c.server.standin.add_template("TPL-NOTICE")
        await c.volunteer("oV1", "王芳", ["errand"], wrote=False)
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        await c.say("oR2", "阳光花园5号楼，帮我买瓶酱油")
        assert [m.kind for m in await received(c, "oV1")] == ["template"]
        reply = await c.say("oV1", "收到")
        assert reply == "您有 2 条未读消息，这就发给您。"
        got = await received(c, "oV1", 2)
        assert [m.kind for m in got] == ["template", "custom"]
        assert "接单 #1" in (got[1].text or "") and "接单 #2" in (got[1].text or "")
        assert (await c.say("oV1", "收到")).startswith("我没太明白")  # nothing waits now
