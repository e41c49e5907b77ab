"""Offers that really reach someone, receipts that say what happened, no stale messages."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from handlers import followups
from storage.models import Status
from storage.types import utcnow
from tests.conftest import make_config
from tests.handlers.community import ADMIN, Community, community


async def _settled(c: Community, openid: str, status: str) -> list[str]:
    """The statuses of `openid`'s queued messages once the last one has reached `status`."""
    for _ in range(200):
        rows = await c.outbox(openid)
        if rows and rows[-1].status == status:
            return [r.status for r in rows]
        await asyncio.sleep(0.02)
    return [r.status for r in await c.outbox(openid)]


async def test_an_offer_parked_for_an_out_of_window_volunteer_is_dropped_once_taken(
    db_url: str, parser: Any
) -> None:
    # Regression: a parked offer reached a volunteer after the task was taken, and the
    # resident was told two volunteers were notified when one offer went out.
    async with community(db_url, parser, routing={"offer_batch": 2}) as c:
        await c.volunteer("oNear", "王芳", ["errand"], building="3")
        await c.volunteer("oImported", "李强", ["errand"], building="3", wrote=False)
        reply = await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "已通知本小区的 1 位志愿者" in reply
        assert [m.purpose for m in await c.outbox("oImported")] == ["offer"]
        assert (await c.say("oNear", "接单 #1")).startswith("任务 #1")

        await c.say("oImported", "你好")  # back: what waited for him is due now
        assert await _settled(c, "oImported", "dropped") == ["dropped", "dropped"]
        assert c.server.standin.messages("oImported") == []
        assert "#1" not in await c.say("oImported", "我的任务")


async def test_nobody_reachable_goes_to_the_workers_at_once_and_the_receipt_says_so(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oImported", "李强", ["errand"], wrote=False)
        reply = await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "正在联系社区工作人员" in reply and "已通知" not in reply
        assert (await c.request(1)).status == Status.ESCALATED
        assert any("社区吹哨" in t for t in await c.told(ADMIN))
        # The parked offer is there when he comes back, and taking it settles the request:
        # the workers' call to assign it, still waiting for them, is no longer true.
        details = await c.say("oImported", "接单")
        assert details.startswith("任务 #1")
        assert await _settled(c, ADMIN, "dropped") == ["dropped"]


async def test_with_a_template_an_out_of_window_volunteer_is_reached(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser, wechat={"template_id": "TPL-NOTICE"}) as c:
        await c.volunteer("oImported", "李强", ["errand"], wrote=False)
        reply = await c.say("oR", "阳光花园3号楼，帮我取个快递")
        assert "已通知本小区的 1 位志愿者" in reply
        assert (await c.request(1)).status == Status.OFFERED


async def test_a_reminder_for_a_task_given_back_is_dropped(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.say("oR", "阳光花园3号楼，明天上午十点帮我取个快递")
        await c.say("oV1", "接单")
        await c.away("oV1")
        config = make_config(database={"url": sqlite_url})
        when_at = (await c.request(1)).when_at
        assert when_at is not None
        await followups.sweep(c.db, config, when_at - timedelta(minutes=30))
        assert any("提醒" in t for t in await c.told("oV1"))
        await c.say("oV1", "放弃 #1")
        assert await _settled(c, "oV1", "dropped")
        reminders = [m for m in await c.outbox("oV1") if "提醒" in m.text]
        assert [m.status for m in reminders] == ["dropped"]
        assert not any("提醒" in (m.text or "") for m in c.server.standin.messages("oV1"))


async def test_the_emergency_receipt_says_only_what_happened(sqlite_url: str, parser: Any) -> None:
    # Regression: the reply said "通知了附近志愿者" and then "附近暂时没有合适的志愿者".
    async with community(sqlite_url, parser) as c:
        reply = await c.say("oR", "我爸摔倒了起不来 阳光花园3号楼")
        assert "120" in reply and "已通知社区值班人员" in reply
        assert "志愿者" not in reply
        await c.volunteer("oV1", "王芳", ["medical"])
        reply = await c.say("oR2", "我妈晕倒了 阳光花园5号楼")
        assert "已通知社区值班人员和本小区的 1 位志愿者" in reply
        assert "附近暂时没有" not in reply


async def test_an_offer_timeout_past_every_reachable_tier_escalates(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        await c.volunteer("oFar", "远邻", ["errand"], compound="幸福里", wrote=False)
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        config = make_config(database={"url": sqlite_url})
        await followups.sweep(c.db, config, utcnow() + timedelta(minutes=11))
        request = await c.request(1)
        assert request.status == Status.ESCALATED
        assert [m.purpose for m in await c.outbox("oFar")] == ["offer"]


async def test_assigning_an_out_of_reach_volunteer_tells_the_worker_to_call(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oImported", "李强", ["repair"], wrote=False, phone="13911112222")
        await c.say("oR", "阳光花园3号楼，家里灯坏了找人修一下")
        reply = await c.say(ADMIN, "派单 #1 李强")
        assert "派给志愿者李强" in reply and "收不到" in reply and "13911112222" in reply
