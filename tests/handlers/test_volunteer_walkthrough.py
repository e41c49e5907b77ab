"""What a volunteer and a community worker tripped over in the third walk-through."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from storage import users, volunteers
from storage.models import HelpRequest, Status, Volunteer
from storage.types import utcnow
from tests.handlers.community import ADMIN, Community, community
from tests.handlers.test_binding import listed


async def registered(c: Community, openid: str) -> Volunteer:
    async with c.db.transaction() as session:
        user = await users.get(session=session, openid=openid)
        found = await volunteers.find(session=session, user_id=user.id)
    assert found is not None
    return found


async def two_tasks(c: Community, first: str, second: str) -> None:
    """Volunteer oV (王芳) has taken #1 (asked by oR1) and #2 (by oR2), both in 阳光花园3号楼."""
    await c.volunteer("oV", "王芳", ["errand", "medical"])
    await c.say("oR1", f"阳光花园3号楼，{first}")
    await c.say("oR2", f"阳光花园3号楼，{second}")
    await c.say("oV", "接单 #1")
    await c.say("oV", "接单 #2")


async def test_sign_up_reads_a_chatty_name_and_after_work_and_shows_what_it_understood(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: "叫我小赵就行" was stored as the name 小赵就行, "下班后" was dropped without
    # a word, and the last reply did not show the times or place to catch such a misreading.
    async with community(sqlite_url, parser) as c:
        await c.say("oNew", "我想当志愿者")
        await c.say("oNew", "1 2")
        await c.say("oNew", "阳光花园3号楼")
        await c.say("oNew", "下班后和周末")
        done = await c.say("oNew", "叫我小赵就行 13900001111")
        assert "登记好了，小赵！" in done
        assert "工作日晚上、周末白天、周末晚上" in done and "阳光花园3号楼" in done
        assert "重新登记" in done
        volunteer = await registered(c, "oNew")
        assert volunteer.name == "小赵" and volunteer.phone == "13900001111"
        assert volunteer.availability == "weekday_evening|weekend_day|weekend_evening"


async def test_answering_the_listed_question_with_skills_goes_on_with_the_sign_up(
    sqlite_url: str, parser: Any, tmp_path: Path
) -> None:
    # Regression: while some volunteers were listed by phone, "买菜 跑腿 还能陪老人聊天" in
    # answer to "登记过吗" got the same question again, and so did every answer after it.
    async with community(sqlite_url, parser) as c:
        await listed(c, sqlite_url, tmp_path)
        assert "登记过志愿者吗" in await c.say("oNew", "我想当志愿者")
        reply = await c.say("oNew", "买菜 跑腿 还能陪老人聊天")
        assert "登记过" not in reply and "住哪个小区" in reply
        assert "登记过志愿者吗" in await c.say("oOther", "我想当志愿者")
        assert "没看明白" in await c.say("oOther", "嗯")
        assert "您能帮哪些忙" in await c.say("oOther", "嗯嗯")


async def test_done_without_a_number_is_the_task_whose_time_has_come(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: asked "#1 办完了吗？" after its time, "办好了" got "您有几个任务（#1、#2）"
    # though #2 was still days ahead.
    async with community(sqlite_url, parser) as c:
        await two_tasks(c, "明天下午三点帮我取个快递", "大后天上午陪我去医院")
        async with c.db.transaction() as session:
            await session.execute(
                update(HelpRequest)
                .where(col(HelpRequest.id) == 1)
                .values(when_at=utcnow() - timedelta(hours=3))
            )
        assert "#1 已完成" in await c.say("oV", "办好了")
        assert (await c.request(2)).status == Status.ACCEPTED
        await c.say("oR3", "阳光花园3号楼，帮我取个快递")
        await c.say("oV", "接单 #3")  # no time: it may be done any moment, so ask
        assert "您有几个任务" in await c.say("oV", "办好了")


async def test_assigning_to_one_of_two_volunteers_of_the_same_name(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: 派单 #1 王芳 with two 王芳 answered "（王芳、王芳），请写全名", a dead end.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["repair"], phone="13900008001")
        await c.volunteer("oV2", "王芳", ["repair"], compound="幸福里", building="2")
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        which = await c.say(ADMIN, "派单 #1 王芳")
        assert "阳光花园3号楼，手机尾号8001" in which and "幸福里2号楼" in which
        assert "请写全名" not in which and "派单 #1 王芳 阳光花园3号楼" in which
        assert "已把 #1 派给志愿者王芳" in await c.say(ADMIN, "派单 #1 王芳 幸福里")
        assert any("社区为您指派" in t for t in await c.told("oV2"))
        assert not any("社区为您指派" in t for t in await c.told("oV1"))
        await c.say("oR2", "阳光花园3号楼，帮我取个快递")
        assert "已把 #2 派给志愿者王芳" in await c.say(ADMIN, "派单 #2 王芳 8001")
        assert "没有对得上“绿洲”" in await c.say(ADMIN, "派单 #2 王芳 绿洲")


async def test_a_notice_starting_with_a_place_not_understood_says_it_goes_wider(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: 群发 阳光花苑 … and 群发 5号楼 … went to everyone, the preview only saying
    # 全部关注者, easy to confirm without seeing that the place was not understood.
    async with community(sqlite_url, parser) as c:
        await c.say("oR", "阳光花园3号楼，帮我取个快递")
        typo = await c.say(ADMIN, "群发 阳光花苑 明天停电")
        assert "没有叫“阳光花苑”的小区" in typo and "群发 阳光花园 …" in typo
        await c.say(ADMIN, "取消")
        bare = await c.say(ADMIN, "群发 5号楼 电梯检修")
        assert "“5号楼”前面没有写小区" in bare
        await c.say(ADMIN, "取消")
        assert "注意" not in await c.say(ADMIN, "群发 明天上午停水")
        await c.say(ADMIN, "取消")
        assert "注意" not in await c.say(ADMIN, "群发 阳光花园 5号楼 电梯检修")


async def test_which_task_a_message_is_for_names_each_by_what_and_when(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: with two tasks the question read "#1（求助居民）、#2（求助居民）", the two
    # alike for residents who never gave a name.
    async with community(sqlite_url, parser) as c:
        await two_tasks(c, "帮我取个快递", "明天上午陪我去医院")
        which = await c.say("oV", "我十分钟后到")
        assert "#1 跑腿 · 时间待商量" in which and "#2 助医 · 明天" in which
        assert "已转给" in await c.say("oV", "1")
