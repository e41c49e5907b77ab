"""Scanning a compound's QR code at its gate makes it the resident's home."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage import org, users
from storage.models import Compound
from tests.handlers.community import Community, community


async def compound_id(c: Community, name: str) -> int:
    async with c.db.transaction() as session:
        found = await session.scalar(select(Compound.id).where(Compound.name == name))
    assert found is not None
    return int(found)


async def test_a_new_follower_who_scanned_is_never_asked_their_compound(
    db_url: str, parser: Any
) -> None:
    async with community(db_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"], building="3")
        push = c.server.wechat
        scene = org.compound_scene(await compound_id(c, "阳光花园"))
        welcome = await push.post(push.event_xml("oScan", "subscribe", f"qrscene_{scene}"))
        assert "欢迎关注近邻互助！已为您登记小区：阳光花园" in (welcome.content or "")
        reply = await c.say("oScan", "帮我取个快递")
        assert "哪个小区" not in reply and "几号楼" in reply
        reply = await c.say("oScan", "3")
        assert "阳光花园3号楼" in reply and "1 位志愿者" in reply
        assert "阳光花园3号楼" in await c.say("oScan", "明天帮我买点菜")  # remembered


async def test_a_follower_scanning_another_gate_moves_home_and_other_scans_change_nothing(
    sqlite_url: str, parser: Any
) -> None:
    async with community(sqlite_url, parser) as c:
        push = c.server.wechat
        await c.say("oR", "阳光花园3号楼 帮我取个快递")
        scene = org.compound_scene(await compound_id(c, "幸福里"))
        moved = await push.post(push.event_xml("oR", "SCAN", scene, created=11))
        assert "已为您登记小区：幸福里" in (moved.content or "")
        other = await push.post(push.event_xml("oR", "SCAN", "promo:2024", created=12))
        assert other.empty
        unknown = await push.post(push.event_xml("oR", "SCAN", "compound:999", created=13))
        assert unknown.empty
        async with c.db.transaction() as session:
            user = await users.get(session=session, openid="oR")
        assert (user.compound_id, user.building) == (await compound_id(c, "幸福里"), None)


def test_scene_strings_name_compounds_within_wechats_limit() -> None:
    assert org.compound_scene(7) == "compound:7" and len(org.compound_scene(10**12)) <= 64
    assert org.scene_compound("qrscene_compound:7") == 7
    assert org.scene_compound("compound:7") == 7
    for other in (None, "", "qrscene_", "compound:", "compound:x", "compound:٣", "promo:7"):
        assert org.scene_compound(other) is None
