"""The broadcast composer: a live audience count with quota warnings, a notice sent now or
at a set time, its progress; and one community's worker kept from another's notices."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp

from storage.types import utcnow
from tests.bot.web.console.site import EAST_COMPOUND, WEST_COMPOUND, Site, residents, site


async def _progress(client: aiohttp.ClientSession, s: Site, number: int) -> dict[str, Any]:
    answer = await client.get(f"{s.url}/broadcasts/{number}/progress")
    assert answer.status == 200, await answer.text()
    data: dict[str, Any] = await answer.json()
    return data


async def _send(client: aiohttp.ClientSession, s: Site, **form: str) -> aiohttp.ClientResponse:
    token = await s.csrf(client)
    return await client.post(
        f"{s.url}/broadcasts", data={"csrf": token, **form}, allow_redirects=False
    )


async def test_a_notice_to_the_community_counts_its_people_goes_out_and_shows_progress(
    db_url: str, parser: Any
) -> None:
    async with site(db_url, parser, scheduler=True) as s:
        await residents(s, EAST_COMPOUND, "oE1", "oE2", "oE3")
        await residents(s, WEST_COMPOUND, "oW1", "oW2")
        async with s.logged_in("east") as client:
            page = await client.get(f"{s.url}/broadcasts")
            assert page.status == 200 and "群发通知" in await page.text()
            preview = await (await client.get(f"{s.url}/broadcasts/preview")).json()
            assert preview["count"] == 3 and preview["warnings"] == []
            west = await (
                await client.get(f"{s.url}/broadcasts/preview", params={"compound": WEST_COMPOUND})
            ).json()
            assert "error" in west and WEST_COMPOUND in west["error"]
            answer = await _send(client, s, text="明天上午9点至12点停水，请提前储水。", when="now")
            assert answer.status == 303, await answer.text()
            number = int(answer.headers["Location"].rsplit("/", 1)[1])
            for _ in range(100):
                progress = await _progress(client, s, number)
                if not progress["live"]:
                    break
                await asyncio.sleep(0.1)
            assert progress["state"] == "done"
            assert (progress["recipients"], progress["sent"], progress["pending"]) == (3, 3, 0)
            shown = await (await client.get(f"{s.url}/broadcasts/{number}")).text()
            assert '已发送 <b data-k="sent">3</b>' in shown
        delivered = {m.openid for m in s.server.standin.messages() if m.kind == "mass"}
        assert delivered == {"oE1", "oE2", "oE3"}


async def test_a_scheduled_notice_waits_and_can_be_withdrawn(sqlite_url: str, parser: Any) -> None:
    async with site(sqlite_url, parser, scheduler=True) as s:
        await residents(s, EAST_COMPOUND, "oE1", "oE2")
        async with s.logged_in("east") as client:
            at = (utcnow() + timedelta(hours=8 + 24)).strftime("%Y-%m-%dT%H:%M")
            answer = await _send(client, s, text="后天社区义诊", when="later", at=at)
            assert answer.status == 303
            number = int(answer.headers["Location"].rsplit("/", 1)[1])
            assert (await _progress(client, s, number))["state"] == "scheduled"
            token = await s.csrf(client)
            await client.post(f"{s.url}/broadcasts/{number}/cancel", data={"csrf": token})
            assert (await _progress(client, s, number))["state"] == "cancelled"


async def test_bad_notices_come_back_with_the_reason_on_the_page(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s, s.logged_in("east") as client:
        past = (utcnow() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        for form, reason in (
            ({"text": "  ", "when": "now"}, "通知内容不能为空"),
            ({"text": "长" * 601, "when": "now"}, "不能超过"),
            ({"text": "义诊", "when": "later", "at": ""}, "请选择定时发送"),
            ({"text": "义诊", "when": "later", "at": "明天"}, "请选择定时发送"),
            ({"text": "义诊", "when": "later", "at": past}, "已经过去"),
            ({"text": "义诊", "when": "now", "compound": WEST_COMPOUND}, WEST_COMPOUND),
            ({"text": "义诊", "when": "now", "role": "everyone"}, "对象只能是"),
        ):
            answer = await _send(client, s, **form)
            page = await answer.text()
            assert answer.status == 400 and reason in page, (form, page[-2000:])
            if form["text"].strip():
                assert form["text"][:50] in page  # what was typed is not lost


async def test_a_worker_neither_sees_nor_withdraws_another_communitys_notices(
    db_url: str, parser: Any
) -> None:
    async with site(db_url, parser) as s:
        await residents(s, WEST_COMPOUND, "oW1", "oW2")
        at = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
        async with s.logged_in("west") as client:
            answer = await _send(client, s, text="西边的通知", when="later", at=at)
            number = int(answer.headers["Location"].rsplit("/", 1)[1])
        async with s.logged_in("east") as client:
            listing = await (await client.get(f"{s.url}/broadcasts")).text()
            assert "西边的通知" not in listing
            for path in (f"/broadcasts/{number}", f"/broadcasts/{number}/progress"):
                assert (await client.get(s.url + path)).status == 404, path
            token = await s.csrf(client)
            answer = await client.post(f"{s.url}/broadcasts/{number}/cancel", data={"csrf": token})
            assert answer.status == 404
        async with s.logged_in("street") as client:
            assert "西边的通知" in await (await client.get(f"{s.url}/broadcasts")).text()
            assert (await _progress(client, s, number))["state"] == "scheduled"


async def test_the_composer_warns_before_wechats_quotas_hold_a_notice_back(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser, wechat={"account_type": "subscription"}) as s:
        await residents(s, EAST_COMPOUND, "oE1", "oE2")
        async with s.logged_in("east") as client:
            preview = await (await client.get(f"{s.url}/broadcasts/preview")).json()
            assert preview["count"] == 2
            assert any("订阅号只能按标签群发" in w for w in preview["warnings"])
            empty = await (
                await client.get(f"{s.url}/broadcasts/preview", params={"role": "volunteer"})
            ).json()
            assert empty["count"] == 0 and any("没有符合条件" in w for w in empty["warnings"])
