"""群发 and 退订 through the webhook: a worker's notice is confirmed before it goes, never taken
for a request; residents can opt out and back in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from bot.broadcasting.engine import FOOTER, BroadcastEngine
from bot.web.keys import CONFIG, RUNTIME
from storage.models import Broadcast, HelpRequest, User
from tests.handlers.community import ADMIN, Community, community


async def deliver(c: Community) -> dict[str, list[str]]:
    """Run the delivery engine once; the notices each follower got so far, by openid."""
    app = c.server.app
    await BroadcastEngine(c.db, app[RUNTIME].client, app[CONFIG]).run_once()
    got: dict[str, list[str]] = {}
    for message in c.server.standin.messages():
        text = message.text or ""
        if text.endswith(FOOTER):  # a notice, by mass send or (one recipient) customer service
            got.setdefault(message.openid, []).append(text.removesuffix(FOOTER))
    return got


async def count(c: Community, model: Any) -> int:
    async with c.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def live_in(c: Community, openid: str, compound_id: int) -> None:
    async with c.db.transaction() as session:
        await session.execute(
            update(User).where(User.openid == openid).values(compound_id=compound_id)
        )


async def test_an_admins_qunfa_is_a_notice_confirmed_before_it_goes_never_a_request(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        for resident in ("oR1", "oR2"):
            await c.say(resident, "帮助")
        reply = await c.say(ADMIN, "群发 明天上午9点到12点停水，请提前储水")
        assert "将群发给 3 人" in reply and "「明天上午9点到12点停水，请提前储水」" in reply
        assert "回复“确认”发送，回复“取消”放弃" in reply
        assert await count(c, HelpRequest) == 0 and await count(c, Broadcast) == 0
        reply = await c.say(ADMIN, "确认")
        assert "已开始群发（通知 1）" in reply and "3 人" in reply
        got = await deliver(c)
        assert got == {o: ["明天上午9点到12点停水，请提前储水"] for o in ("oR1", "oR2", ADMIN)}
        assert await deliver(c) == got  # nothing twice
        reply = await c.say(ADMIN, "群发进度")
        assert "通知 1" in reply and "已发完" in reply and "已发 3" in reply


async def test_a_compound_before_the_text_narrows_the_audience_and_cancel_drops_it(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV", "王芳", ["errand"], compound="阳光花园")
        await c.say("oR1", "帮助")
        await live_in(c, "oR1", 2)  # 幸福里
        reply = await c.say(ADMIN, "群发通知：阳光花园，明天停水")
        assert "将群发给 1 人（阳光花园）" in reply and "「明天停水」" in reply
        assert await c.say(ADMIN, "取消") == "已取消，这条通知不会发出。"
        assert await count(c, Broadcast) == 0 and await deliver(c) == {}
        reply = await c.say(ADMIN, "群发 幸福里 居民 下午三点测体温")
        assert "将群发给 1 人（幸福里 · 居民）" in reply
        await c.say(ADMIN, "确认")
        assert await deliver(c) == {"oR1": ["下午三点测体温"]}
        reply = await c.say(ADMIN, "群发 没有这个小区3号楼 明天停水")
        assert "「没有这个小区3号楼 明天停水」" in reply  # not an option: part of the notice
        await c.say(ADMIN, "取消")
        assert "格式：群发 通知内容" in await c.say(ADMIN, "群发")


async def test_a_resident_cannot_qunfa_and_their_message_is_not_a_request(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        reply = await c.say("oR1", "群发 明天停水")
        assert "只有社区工作人员" in reply
        assert await count(c, HelpRequest) == 0 and await count(c, Broadcast) == 0


async def test_opting_out_stops_notices_and_opting_back_in_restores_them(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.say("oR1", "帮助")
        assert "已退订社区通知" in await c.say("oR2", "退订")
        reply = await c.say(ADMIN, "群发 周六义诊")
        assert "将群发给 2 人" in reply and "另有 1 人已退订或取消关注" in reply
        await c.say(ADMIN, "确认")
        assert set(await deliver(c)) == {"oR1", ADMIN}
        assert "已恢复订阅" in await c.say("oR2", "恢复订阅")
        await c.say(ADMIN, "群发 周日义诊")
        await c.say(ADMIN, "确认")
        assert (await deliver(c))["oR2"] == ["周日义诊"]
