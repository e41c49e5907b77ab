"""Each follow-up kind, driven by sweeping at chosen moments (no waiting on real time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.web.keys import CONFIG
from handlers import followups
from storage.models import Status
from storage.types import utcnow
from tests.handlers.community import ADMIN, Community, community

LATER = timedelta(minutes=11)


async def sweep(c: Community, at: datetime) -> int:
    return await followups.sweep(c.db, c.server.app[CONFIG], at)


def kinds(events: list[Any]) -> list[str]:
    return [e.kind for e in events]


async def test_an_untaken_offer_widens_tier_by_tier_then_escalates_once(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oNear", "近邻", ["errand"], compound="阳光花园")
        await c.volunteer("oCommunity", "社区", ["errand"], compound="幸福里")
        await c.volunteer("oStreet", "街道", ["errand"], compound="绿洲", community="别的社区")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert (await c.request(1)).tier == 0 and not await c.told("oCommunity")
        now = utcnow()
        await sweep(c, now + timedelta(minutes=5))
        assert not await c.told("oCommunity")
        await sweep(c, now + LATER)
        assert (await c.request(1)).tier == 1 and await c.told("oCommunity")
        await sweep(c, now + LATER)  # the same moment again: nothing is due twice
        assert len(await c.told("oCommunity")) == 1
        await sweep(c, now + 2 * LATER)
        assert (await c.request(1)).tier == 2 and await c.told("oStreet")
        await sweep(c, now + 3 * LATER)
        await sweep(c, now + 4 * LATER)
        assert (await c.request(1)).status == Status.ESCALATED
        blown = [t for t in await c.told(ADMIN) if "社区吹哨" in t]
        assert len(blown) == 1
        # The first offers stay good: the nearest volunteer can still take it.
        assert (await c.say("oNear", "接单 #1")).startswith("任务 #1")


async def test_urgent_requests_widen_after_the_urgent_timeout(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oNear", "近邻", ["errand"])
        await c.volunteer("oCommunity", "社区", ["errand"], compound="幸福里")
        await c.say("oR", "阳光花园3号楼，急！马上帮我取个快递")
        request = await c.request(1)
        assert request.urgency == "urgent"
        await sweep(c, utcnow() + timedelta(seconds=70))
        assert (await c.request(1)).tier == 1


async def test_a_request_whose_place_was_never_given_still_goes_out(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV", "王芳", ["errand"])
        assert "哪个小区" in await c.say("oR", "帮我取个快递")
        assert (await c.request(1)).status == Status.OPEN
        await sweep(c, utcnow() + LATER)
        assert (await c.request(1)).status == Status.OFFERED
        assert await c.told("oV")


async def test_reminder_before_the_agreed_time_and_check_in_when_overdue(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，后天下午三点帮我取个快递")
        await c.say("oV", "接单 #1")
        request = await c.request(1)
        assert request.when_at is not None
        await sweep(c, request.when_at - timedelta(hours=2))
        assert not any("提醒" in t for t in await c.told("oV"))
        await sweep(c, request.when_at - timedelta(minutes=50))
        await sweep(c, request.when_at - timedelta(minutes=40))
        assert sum("提醒" in t for t in await c.told("oV")) == 1
        await sweep(c, request.when_at + timedelta(hours=3))
        assert sum("办完了吗" in t for t in await c.told("oV")) == 1
        assert kinds(await c.history(1))[-1] == "accepted"


async def test_satisfaction_question_then_auto_close(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        await c.say("oV", "接单")
        await c.say("oV", "完成")
        now = utcnow()
        await sweep(c, now + timedelta(minutes=5))
        assert not any("满意吗" in t and "1-5 分" in t for t in await c.told("oR"))
        await sweep(c, now + timedelta(minutes=15))
        await sweep(c, now + timedelta(minutes=20))
        assert sum("您满意吗" in t for t in await c.told("oR")) == 1
        await sweep(c, now + timedelta(days=3, minutes=1))
        request = await c.request(1)
        assert request.status == Status.CLOSED and request.score is None
        assert kinds(await c.history(1))[-1] == "auto_closed"


async def test_a_rated_or_cancelled_request_gets_no_follow_up(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，明天上午十点帮我取个快递")
        await c.say("oR2", "阳光花园3号楼，明天上午十点帮我买菜")
        await c.say("oV", "接单 #1")
        await c.say("oV", "接单 #2")
        await c.say("oR2", "不用了 取消吧")
        await c.say("oV", "完成 #1")
        await c.say("oR", "5分")
        before = {who: await c.told(who) for who in ("oV", "oR", "oR2", ADMIN)}
        for days in (0.5, 1, 2, 5):
            await sweep(c, utcnow() + timedelta(days=days))
        after = {who: await c.told(who) for who in ("oV", "oR", "oR2", ADMIN)}
        assert after == before
        assert (await c.request(2)).status == Status.CANCELLED


async def test_the_morning_digest_goes_out_once_a_day(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.say("oR", "阳光花园3号楼，家里灯坏了找人修一下")  # nobody: escalated
        config = c.server.app[CONFIG]
        now = utcnow()
        assert await followups.digest(c.db, config, now) == 1
        assert await followups.digest(c.db, config, now) == 0
        digest = [t for t in await c.told(ADMIN) if "早报" in t]
        assert len(digest) == 1 and "#1" in digest[0] and "社区协调中 1 条" in digest[0]
        assert await followups.digest(c.db, config, now + timedelta(days=1)) == 1


async def test_personal_fields_are_purged_after_the_retention_period(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser, privacy={"retention": "30d"}) as c:
        await c.say("oR", "阳光花园3号楼502，帮我取个快递 电话13912345678")
        await c.say("oR", "取消")
        config = c.server.app[CONFIG]
        await followups.purge(c.db, config, utcnow() + timedelta(days=29))
        assert (await c.request(1)).text is not None
        await followups.purge(c.db, config, utcnow() + timedelta(days=31))
        request = await c.request(1)
        assert (request.text, request.phone, request.room) == (None, None, None)
        assert request.category == "errand" and request.purged_at is not None


async def test_concurrent_sweeps_fire_each_follow_up_once(db_url: str, parser: Any) -> None:
    import asyncio

    async with community(db_url, parser) as c:
        await c.volunteer("oNear", "近邻", ["errand"])
        await c.volunteer("oCommunity", "社区", ["errand"], compound="幸福里")
        for i in range(4):
            await c.say(f"oR{i}", "阳光花园3号楼，帮我取个快递")
        at = utcnow() + LATER
        await asyncio.gather(*(sweep(c, at) for _ in range(4)))
        offers = [t for t in await c.told("oCommunity") if "接单" in t]
        assert len(offers) == 4
        for number in range(1, 5):
            assert kinds(await c.history(number)).count("offered") == 2


async def test_the_digest_names_the_overdue_tasks_among_those_in_progress(
    sqlite_url: str, parser: Any
) -> None:
    # It said "进行中 1 条，超时未完成 1 条" (two requests, or one?) without saying which, and
    # dated itself 12月08日 where everything else says 12月8日.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV", "王芳", ["errand"])
        await c.say("oR", "阳光花园5号楼，帮我取个快递")
        await c.say("oV", "接单 #1")
        now = utcnow() + timedelta(hours=3)
        await followups.digest(c.db, c.server.app[CONFIG], now)
        digest = next(t for t in await c.told(ADMIN) if "早报" in t)
        local = now.astimezone(c.server.app[CONFIG].org.tz)
        assert digest.splitlines()[0] == f"近邻互助早报（{local.month}月{local.day}日）"
        assert "进行中 1 条（其中超时未完成 1 条：#1）。" in digest


async def test_the_digest_says_how_many_escalated_requests_it_leaves_out(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        for n in range(12):
            await c.say(f"oR{n}", f"阳光花园{n + 1}号楼，家里灯坏了找人修一下")  # nobody: escalated
        await followups.digest(c.db, c.server.app[CONFIG], utcnow())
        digest = next(t for t in await c.told(ADMIN) if "早报" in t)
        assert digest.count("待派单：#") == 10
        assert "另有 2 条待派单未列出，请到社区工作台查看。" in digest
