"""The delivery engine against the WeChat stand-in on loopback: batches, clientmsgids, 45065,
back-off, opt-outs, tags, the rate limit and WeChat's quotas. What rests on SQL runs on SQLite
and PostgreSQL; the engine's own behaviour on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.broadcasting.engine import FOOTER
from storage import broadcasts, migrate
from storage.audience import AudienceSpec
from storage.db import Database, open_database
from storage.models import BroadcastState, MassCalls, MassQuota
from tests.bot.broadcasting.rig import rig

SEND, SENDALL = "/cgi-bin/message/mass/send", "/cgi-bin/message/mass/sendall"


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    database = open_database(sqlite_url)
    await migrate.upgrade(database)
    yield database
    await database.close()


async def test_a_notice_reaches_each_recipient_once_in_openid_batches_none_of_one(
    db: Database, db_url: str
) -> None:
    async with rig(db, db_url, broadcast={"batch_size": 3}) as r:
        await r.people([f"o{i}" for i in range(7)])
        await r.person("oElsewhere", "别的小区", community="别的社区")
        notice = await r.notice(spec=AudienceSpec(community="示范社区"))
        await r.engine().run_once()
        assert r.received() == {f"o{i}": 1 for i in range(7)}
        calls = r.standin.bodies[SEND]
        assert [len(c["touser"]) for c in calls] == [3, 2, 2]  # never a list of one
        assert [c["clientmsgid"] for c in calls] == [
            f"jl{notice}-{calls[0]['clientmsgid'].split('-')[1]}-{n}" for n in (1, 2, 3)
        ]
        assert all(c["text"]["content"] == "明天上午停水" + FOOTER for c in calls)
        progress = await r.progress(notice)
        assert (progress.state, progress.sent, progress.failed, progress.pending) == (
            BroadcastState.DONE,
            7,
            0,
            0,
        )


async def test_45065_clientmsgid_exist_counts_the_batch_as_sent_and_never_resends(
    sqlite_db: Database, sqlite_url: str
) -> None:
    async with rig(sqlite_db, sqlite_url) as r:
        await r.people(["oA", "oB"])
        notice = await r.notice()
        r.standin.fail_next(SEND, 45065)
        await r.engine().run_once()
        assert await r.states(notice) == {"oA": "sent", "oB": "sent"}
        assert r.standin.calls[SEND] == 1


async def test_a_batch_left_in_flight_by_a_crash_goes_again_with_its_clientmsgid(
    db: Database, db_url: str
) -> None:
    async with rig(db, db_url, broadcast={"batch_size": 2}) as r:
        await r.people(["oA", "oB", "oC", "oD", "oE", "oF"])
        notice = await r.notice()
        r.standin.hold_answer(SEND, 2)  # WeChat sends batch 2; the engine never hears back
        first = asyncio.create_task(r.engine().run_once())
        await asyncio.wait_for(r.standin.held.wait(), timeout=10)
        first.cancel()  # the process dies while waiting
        await asyncio.gather(first, return_exceptions=True)
        r.standin.release()
        assert len(r.received()) == 4
        progress = await r.progress(notice)
        assert (progress.sent, progress.pending) == (2, 4)
        await r.engine().run_once()
        assert r.received() == {o: 1 for o in ("oA", "oB", "oC", "oD", "oE", "oF")}
        assert [c["clientmsgid"][-2:] for c in r.standin.bodies[SEND]] == ["-1", "-2", "-2", "-3"]
        progress = await r.progress(notice)
        assert (progress.sent, progress.pending, progress.state) == (6, 0, BroadcastState.DONE)


async def test_busy_and_rate_limited_back_off_then_send_the_same_batch(
    sqlite_db: Database, sqlite_url: str
) -> None:
    async with rig(sqlite_db, sqlite_url) as r:
        await r.people(["oA", "oB"])
        notice = await r.notice()
        r.standin.fail_next(SEND, -1, times=3)  # the client's own retries run out
        engine = r.engine()
        await engine.run_once()
        assert r.received() == {}
        progress = await r.progress(notice)
        assert progress.pending == 2 and "-1" in (progress.last_error or "")
        await engine.run_once()  # not due yet: backing off
        assert r.standin.calls[SEND] == 3
        r.standin.advance(31)
        r.standin.fail_next(SEND, 45009)
        await engine.run_once()
        assert r.received() == {}
        r.standin.advance(61)
        await engine.run_once()
        assert r.received() == {"oA": 1, "oB": 1}
        assert len({c["clientmsgid"] for c in r.standin.bodies[SEND]}) == 1


async def test_opted_out_and_unsubscribed_people_never_receive_a_notice(
    db: Database, db_url: str
) -> None:
    async with rig(db, db_url) as r:
        await r.people(["oA", "oB"])
        await r.person("oQuiet", broadcast_opt_out=True)
        await r.person("oGone", subscribed=False)
        await r.person("oNowhere", None)  # never said where: counts in the home community
        async with db.transaction() as session:
            await broadcasts.set_opt_out(session=session, openid="oB", opted_out=True)
        notice = await r.notice(spec=AudienceSpec(community="示范社区"))
        await r.engine().run_once()
        assert r.received() == {"oA": 1, "oNowhere": 1}
        assert (await r.progress(notice)).recipients == 2


async def test_someone_who_opts_out_while_a_notice_is_going_out_is_skipped(
    sqlite_db: Database, sqlite_url: str
) -> None:
    async with rig(sqlite_db, sqlite_url, broadcast={"batch_size": 3}) as r:
        await r.people(["oA", "oB", "oC", "oD", "oE", "oF"])
        notice = await r.notice()
        r.standin.fail_next(SEND, 45009)  # batch 1 waits; the recipients are fixed already
        engine = r.engine()
        await engine.run_once()
        await r.change("oE", broadcast_opt_out=True)
        r.standin.advance(61)
        await engine.run_once()
        assert r.received() == {"oA": 1, "oB": 1, "oC": 1, "oD": 1, "oF": 1}
        assert (await r.states(notice))["oE"] == "skipped_opt_out"
        progress = await r.progress(notice)
        assert (progress.sent, progress.skipped, progress.state) == (5, 1, BroadcastState.DONE)


async def test_a_whole_tag_goes_by_tag_and_a_tag_with_an_opt_out_by_openid_lists(
    db: Database, db_url: str
) -> None:
    async with rig(db, db_url) as r:
        await r.people(["oA", "oB", "oC"])
        leaders = await r.client.create_tag("楼长")
        await r.client.tag_users(leaders, ["oA", "oB", "oStranger"])  # oStranger never wrote
        await r.engine().run_once()  # copies the tags from WeChat
        whole = await r.notice("楼长会议", AudienceSpec(tag="楼长"))
        await r.engine().run_once()
        [call] = r.standin.bodies[SENDALL]
        assert call["filter"] == {"is_to_all": False, "tag_id": leaders}
        assert r.received() == {"oA": 1, "oB": 1, "oStranger": 1}
        assert (await r.progress(whole)).sent == 3
        async with db.transaction() as session:
            await broadcasts.set_opt_out(session=session, openid="oB", opted_out=True)
        partial = await r.notice("楼长会议改期", AudienceSpec(tag="楼长"))
        await r.engine().run_once()
        assert len(r.standin.bodies[SENDALL]) == 1
        assert sorted(r.standin.bodies[SEND][0]["touser"]) == ["oA", "oStranger"]
        assert await r.states(partial) == {"oA": "sent", "oStranger": "sent"}


async def test_a_tag_whose_members_changed_in_wechat_is_copied_again_before_sending(
    sqlite_db: Database, sqlite_url: str
) -> None:
    async with rig(sqlite_db, sqlite_url) as r:
        await r.people(["oA", "oB"])
        await r.person("oQuiet", broadcast_opt_out=True)
        tag = await r.client.create_tag("党员")
        await r.client.tag_users(tag, ["oA", "oB"])
        await r.engine().run_once()
        notice = await r.notice("学习会", AudienceSpec(tag="党员"))
        await r.client.tag_users(tag, ["oQuiet"])  # tagged in WeChat after the notice was made
        await r.engine().run_once()
        assert r.standin.bodies[SENDALL] == []  # by tag, oQuiet would get it
        assert r.received() == {"oA": 1, "oB": 1}
        assert set(await r.states(notice)) == {"oA", "oB"}


async def test_the_rate_limit_holds_at_the_standin_without_sleeping(
    sqlite_db: Database, sqlite_url: str
) -> None:
    async with rig(sqlite_db, sqlite_url, broadcast={"calls_per_minute": 5, "batch_size": 2}) as r:
        await r.people([f"o{i:02}" for i in range(24)])
        started = r.now()
        notice = await r.notice()
        await r.engine().run_once()
        times = r.standin.call_times[SEND]
        assert len(times) == 12 and r.received() == {f"o{i:02}": 1 for i in range(24)}
        for n, at in enumerate(times):
            assert sum(1 for t in times[n:] if t - at < timedelta(minutes=1)) <= 5
        assert r.now() - started >= timedelta(minutes=2)  # 12 calls at 5 a minute
        assert (await r.progress(notice)).sent == 24


async def test_a_single_recipient_inside_the_window_gets_a_customer_service_message(
    sqlite_db: Database, sqlite_url: str
) -> None:
    async with rig(sqlite_db, sqlite_url) as r:
        await r.person("oOnly", "幸福里")
        r.standin.interact("oOnly")
        notice = await r.notice(spec=AudienceSpec(compound="幸福里"))
        await r.engine().run_once()
        [message] = r.standin.messages()
        assert (message.kind, message.openid) == ("custom", "oOnly")
        assert (await r.progress(notice)).sent == 1


async def test_service_account_skips_users_with_four_mass_messages_this_month(
    db: Database, db_url: str
) -> None:
    async with rig(db, db_url) as r:
        await r.people(["oA", "oB", "oC"])
        for n in range(3):
            await r.notice(f"通知{n}", AudienceSpec(compound="阳光花园"))
        await r.engine().run_once()
        await r.person("oLate")  # arrives later: gets only the fourth
        await r.notice("通知3", AudienceSpec(compound="阳光花园"))
        await r.engine().run_once()
        seen = await r.preview()
        assert [w.kind for w in seen.warnings] == ["monthly"] and seen.warnings[0].count == 3
        r.standin.interact("oLate")  # the one left goes by customer service: no 5th mass message
        fifth = await r.notice("第五条")
        await r.engine().run_once()
        assert await r.states(fifth) == {
            "oA": "skipped_quota",
            "oB": "skipped_quota",
            "oC": "skipped_quota",
            "oLate": "sent",
        }
        assert r.received() == {"oA": 4, "oB": 4, "oC": 4, "oLate": 2}
        month = (await r.rules()).month(r.now())
        async with db.transaction() as session:
            counted = await session.get(MassQuota, ("oLate", month))
        assert counted is not None and counted.received == 1


async def test_service_account_waits_for_tomorrow_when_todays_100_calls_are_used(
    db: Database, db_url: str
) -> None:
    async with rig(db, db_url, broadcast={"batch_size": 2}) as r:
        await r.people(["oA", "oB", "oC", "oD"])
        today = (await r.rules()).day(r.now())
        async with db.transaction() as session:
            session.add(MassCalls(day=today, calls=99))
        seen = await r.preview()
        assert [(w.kind, w.count, w.limit) for w in seen.warnings] == [("daily", 2, 100)]
        notice = await r.notice()
        await r.engine().run_once()
        assert sum(r.received().values()) == 2
        progress = await r.progress(notice)
        assert (progress.sent, progress.pending) == (2, 2)
        r.standin.advance(24 * 3600)
        await r.engine().run_once()
        assert r.received() == {"oA": 1, "oB": 1, "oC": 1, "oD": 1}


async def test_subscription_account_sends_by_tag_once_a_day_and_others_only_in_the_window(
    sqlite_db: Database, sqlite_url: str
) -> None:
    async with rig(sqlite_db, sqlite_url, wechat={"account_type": "subscription"}) as r:
        r.standin.mass_daily_limit, r.standin.mass_month_limit = 1, None
        await r.people(["oA", "oB", "oOld"])
        r.standin.interact("oA")
        r.standin.interact("oB")
        await r.change("oOld", last_interaction_at=r.now() - timedelta(days=3))
        tag = await r.client.create_tag("志愿者")
        await r.client.tag_users(tag, ["oA", "oB"])
        await r.engine().run_once()
        first = await r.notice("一", AudienceSpec(tag="志愿者"))
        second = await r.notice("二", AudienceSpec(tag="志愿者"))
        everyone = await r.notice("三")
        await r.engine().run_once()
        assert len(r.standin.bodies[SENDALL]) == 1 and r.standin.bodies[SEND] == []
        assert (await r.progress(first)).sent == 2
        assert (await r.progress(second)).pending == 2  # tomorrow: 1 mass send a day
        assert await r.states(everyone) == {"oA": "sent", "oB": "sent", "oOld": "skipped_window"}
        assert [m.kind for m in r.standin.messages("oA")] == ["mass", "custom"]
        r.standin.advance(24 * 3600)
        await r.engine().run_once()
        assert (await r.progress(second)).sent == 2
        assert [w.kind for w in (await r.preview()).warnings] == ["by_tag_only"]
