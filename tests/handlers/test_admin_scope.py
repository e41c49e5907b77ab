"""Community workers in chat act within their console account's scope once linked (绑定工作台):
派单 and 统计 see their community only; escalations reach that community's workers and the
street-wide duty workers of `[admin] openids`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage import accounts
from storage.models import Status
from storage.types import utcnow
from tests.bot.web.console.site import EAST, WEST, Site, site, volunteer
from tests.handlers.community import Community


async def _link(s: Site, username: str, openid: str, code: str) -> str:
    async with s.db.transaction() as session:
        account = await accounts.by_username(session=session, username=username)
        assert account is not None and account.id is not None
        await accounts.set_link_code(
            session=session,
            account_id=account.id,
            code_hash=accounts.code_hash(code),
            expires_at=utcnow() + timedelta(minutes=10),
        )
    return await Community(s.server).say(openid, f"绑定工作台 {code}")


async def test_a_linked_worker_assigns_and_counts_only_in_their_community(
    db_url: str, parser: Any
) -> None:
    async with site(db_url, parser) as s:
        chat = Community(s.server)
        await volunteer(s.db, "oEastV", "东边志愿者", EAST)
        await volunteer(s.db, "oWestV", "西边志愿者", WEST)
        east = await s.ask("oR1", "阳光花园", "东边：买菜")
        west = await s.ask("oR2", "幸福里", "西边：买菜")
        # Before linking, the worker is a resident like any other: 派单 is not theirs.
        assert "已把" not in await chat.say("oEastWorker", f"派单 #{east} 东边志愿者")
        reply = await _link(s, "east", "oEastWorker", "12345678")
        assert "已绑定" in reply and "east" in reply and EAST in reply
        assert "没有找到求助" in await chat.say("oEastWorker", f"派单 #{west} 西边志愿者")
        assert "没有叫" in await chat.say("oEastWorker", f"派单 #{east} 西边志愿者")
        assert "已把" in await chat.say("oEastWorker", f"派单 #{east} 东边志愿者")
        assert (await chat.request(east)).status == Status.ACCEPTED
        assert (await chat.request(west)).status == Status.OPEN
        stats = await chat.say("oEastWorker", "统计")
        assert "近7天新求助 1 条" in stats and "志愿者 1 人" in stats
        # The street-wide duty worker sees both communities.
        duty = await chat.say("oDuty", "统计")
        assert "近7天新求助 2 条" in duty and "志愿者 2 人" in duty
        # A code works once.
        assert "不对或已过期" in await chat.say("oOther", "绑定工作台 12345678")


async def test_escalations_reach_the_requests_community_workers_and_the_duty_workers(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s:
        chat = Community(s.server)
        await _link(s, "east", "oEastWorker", "11111111")
        await _link(s, "west", "oWestWorker", "22222222")
        reply = await chat.say("oResident", "幸福里3号楼，帮我修一下水龙头")
        assert "#" in reply
        news = "社区吹哨"
        assert any(news in text for text in await chat.told("oWestWorker"))
        assert any(news in text for text in await chat.told("oDuty"))
        assert not any(news in text for text in await chat.told("oEastWorker"))


async def test_wrong_link_codes_are_limited_like_passwords(sqlite_url: str, parser: Any) -> None:
    async with site(sqlite_url, parser, console={"login_failures": 3}) as s:
        chat = Community(s.server)
        for n in range(3):
            assert "不对或已过期" in await chat.say("oGuesser", f"绑定工作台 0000000{n}")
        reply = await _link(s, "east", "oGuesser", "87654321")
        assert "尝试次数过多" in reply
        assert "请发送" in await chat.say("oGuesser", "绑定工作台 123")


async def test_the_morning_digest_tells_each_community_of_its_own(
    sqlite_url: str, parser: Any
) -> None:
    from bot.web.keys import CONFIG
    from handlers import followups

    async with site(sqlite_url, parser) as s:
        chat = Community(s.server)
        await _link(s, "east", "oEastWorker", "11111111")
        await s.ask("oR1", "阳光花园", "东边：买菜")
        await s.ask("oR2", "幸福里", "西边：买菜")
        await s.ask("oR3", "幸福里", "西边：修灯")
        assert await followups.digest(s.db, s.server.app[CONFIG], utcnow()) == 2
        east = [t for t in await chat.told("oEastWorker") if "早报" in t]
        duty = [t for t in await chat.told("oDuty") if "早报" in t]
        assert len(east) == 1 and "等待接单 1 条" in east[0]
        assert len(duty) == 1 and "等待接单 3 条" in duty[0]


async def test_a_volunteers_binding_goes_to_and_is_decided_by_their_communitys_workers(
    sqlite_url: str, parser: Any
) -> None:
    from tests.bot.web.console.test_console_security import upload

    async with site(sqlite_url, parser) as s:
        chat = Community(s.server)
        await _link(s, "east", "oEastWorker", "11111111")
        await _link(s, "west", "oWestWorker", "22222222")
        roster = (
            "openid,name,phone,skills,community,compound,building\n"
            f",乙,13800002222,维修,{WEST},幸福里,5\n"
        )
        async with s.logged_in("west") as client:
            token = await s.csrf(client)
            await client.post(f"{s.url}/volunteers/import", data=upload(roster.encode(), token))
        assert "社区工作人员确认" in await chat.say("oNewbie", "绑定 13800002222")
        assert any("绑定申请 #1" in t for t in await chat.told("oWestWorker"))
        assert not any("绑定申请" in t for t in await chat.told("oEastWorker"))
        assert "没有找到绑定申请 #1" in await chat.say("oEastWorker", "同意绑定 #1")
        assert "已同意绑定 #1" in await chat.say("oWestWorker", "同意绑定 #1")


async def test_a_linked_workers_群发_reaches_their_community_only(
    sqlite_url: str, parser: Any
) -> None:
    from tests.bot.web.console.site import EAST_COMPOUND, WEST_COMPOUND, residents

    async with site(sqlite_url, parser) as s:
        chat = Community(s.server)
        await residents(s, EAST_COMPOUND, "oE1", "oE2")
        await residents(s, WEST_COMPOUND, "oW1", "oW2", "oW3")
        await _link(s, "east", "oEastWorker", "11111111")
        mine = await chat.say("oEastWorker", "群发 明天上午停水")
        assert (
            "将群发给 3 人" in mine
        )  # the two residents, and the worker: no place, so the home community
        assert "没有找到" in await chat.say("oEastWorker", f"群发 {WEST_COMPOUND} 明天上午停水")
        everyone = await chat.say("oDuty", "群发 明天上午停水")
        assert "将群发给" in everyone and "将群发给 3 人" not in everyone
