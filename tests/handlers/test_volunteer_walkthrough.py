"""What a volunteer and a community worker tripped over in the third walk-through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage import users, volunteers
from storage.models import Volunteer
from tests.handlers.community import Community, community
from tests.handlers.test_binding import listed


async def registered(c: Community, openid: str) -> Volunteer:
    async with c.db.transaction() as session:
        user = await users.get(session=session, openid=openid)
        found = await volunteers.find(session=session, user_id=user.id)
    assert found is not None
    return found


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
