"""Binding claims on the 志愿者 page: a worker sees their community's listed volunteers and the
claims to them, approves or rejects one, and the claimant hears it in WeChat as from chat."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from storage import bindings
from storage.models import BindingStatus
from tests.bot.web.console.site import EAST, WEST, Site, site
from tests.bot.web.console.test_console_security import upload

ROSTER = "openid,name,phone,skills,community,compound,building\n"


async def listed(s: Site, account: str, row: str) -> None:
    """A volunteer listed by phone only, imported on the console's own form."""
    async with s.logged_in(account) as client:
        token = await s.csrf(client)
        answer = await client.post(
            f"{s.url}/volunteers/import", data=upload((ROSTER + row).encode(), token)
        )
        assert "其中 1 人还没绑定微信" in await answer.text()


async def listed_in_both(s: Site) -> None:
    """王阿姨 listed in the east community, 西边李师傅 in the west one, both by phone only."""
    await listed(s, "east", f",王阿姨,13800138000,跑腿|助老,{EAST},阳光花园,3\n")
    await listed(s, "west", f",西边李师傅,13900139000,维修,{WEST},幸福里,5\n")


async def claims(s: Site, openid: str, phone: str) -> str:
    """`openid` says in chat that they are the volunteer listed with `phone`; the reply."""
    answer = await s.server.wechat.text(openid, f"绑定 {phone}")
    assert answer.status == 200, answer.body
    return answer.content or ""


async def told(s: Site, openid: str, words: str, within: float = 8.0) -> str:
    """The message `openid` got through WeChat (the stand-in) containing `words`."""
    for _ in range(int(within / 0.05)):
        for message in s.server.standin.messages(openid):
            if words in (message.text or ""):
                return message.text or ""
        await asyncio.sleep(0.05)
    got = [m.text for m in s.server.standin.messages(openid)]
    raise AssertionError(f"{openid} was not told {words!r}; got {got}")


async def decide(
    client: aiohttp.ClientSession, s: Site, number: int, what: str, token: str | None
) -> aiohttp.ClientResponse:
    data = {"csrf": token} if token else {}
    return await client.post(f"{s.url}/bindings/{number}/{what}", data=data)


async def status_of(s: Site, number: int) -> str:
    async with s.db.transaction() as session:
        return (await bindings.claim(session=session, number=number)).status


async def test_approving_on_the_page_binds_the_claimant_who_is_told_and_gets_offers(
    db_url: str, parser: Any
) -> None:
    async with site(db_url, parser) as s:
        await listed_in_both(s)
        assert "申请 #1" in await claims(s, "oWang", "13800138000")
        assert "申请 #2" in await claims(s, "oFake", "138 0013 8000")
        assert "申请 #3" in await claims(s, "oLi", "13900139000")
        async with s.logged_in("east") as client:
            page = await (await client.get(f"{s.url}/volunteers")).text()
            assert "绑定申请 #1" in page and "绑定申请 #2" in page and "王阿姨" in page
            assert "微信用户 oWang 说自己是 <b>王阿姨</b>" in page and "13800138000" in page
            assert "#3" not in page and "西边" not in page and "13900139000" not in page
            token = await s.csrf(client)
            # Without the CSRF token nothing is decided.
            refused = await decide(client, s, 1, "approve", None)
            assert refused.status == 403 and await status_of(s, 1) == BindingStatus.PENDING
            # Another community's claim: not found, and it stays pending.
            for what in ("approve", "reject"):
                answer = await decide(client, s, 3, what, token)
                assert answer.status == 404 and "没有找到绑定申请 #3" in await answer.text()
            assert await status_of(s, 3) == BindingStatus.PENDING

            answer = await decide(client, s, 1, "approve", token)
            page = await answer.text()
            assert answer.status == 200 and str(answer.url) == f"{s.url}/volunteers"
            assert (
                '<p class="notice ok" role="status">已同意绑定 #1：志愿者王阿姨现在可以接单了。'
                in page
            )
            assert "绑定申请 #" not in page and "待绑定微信" not in page  # #2 was withdrawn
            # Twice, or the withdrawn rival: a clear line, nothing changes.
            again = await decide(client, s, 1, "approve", token)
            assert (
                again.status == 200 and "绑定申请 #1 已经处理过了（已同意）" in await again.text()
            )
            rival = await decide(client, s, 2, "reject", token)
            assert (
                rival.status == 200 and "绑定申请 #2 已经处理过了（已撤回）" in await rival.text()
            )
        # The very words of 同意绑定 in chat reach both claimants through WeChat.
        assert "社区已确认，您已绑定为志愿者王阿姨（跑腿、助老）" in await told(
            s, "oWang", "社区已确认"
        )
        await told(s, "oFake", "您的志愿者绑定申请未通过")
        assert await status_of(s, 3) == BindingStatus.PENDING
        # Now a volunteer: a neighbour's errand is offered to them.
        await s.server.wechat.text("oNeighbour", "阳光花园3号楼，帮我取个快递")
        assert "接单 #" in await told(s, "oWang", "接单 #")


async def test_rejecting_on_the_page_tells_the_claimant_and_a_street_worker_sees_every_claim(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s:
        await listed_in_both(s)
        await claims(s, "oWang", "13800138000")
        await claims(s, "oLi", "13900139000")
        async with s.logged_in("street") as client:
            page = await (await client.get(f"{s.url}/volunteers")).text()
            assert "绑定申请 #1" in page and "绑定申请 #2" in page
        async with s.logged_in("west") as client:
            page = await (await client.get(f"{s.url}/volunteers")).text()
            assert "绑定申请 #2" in page and "西边李师傅" in page and "王阿姨" not in page
            token = await s.csrf(client)
            assert (await decide(client, s, 1, "reject", token)).status == 404
            answer = await decide(client, s, 2, "reject", token)
            page = await answer.text()
            assert '<p class="notice ok" role="status">已拒绝绑定 #2。' in page
            assert "绑定申请 #2" not in page and "西边李师傅" in page  # still listed, unbound
            again = await decide(client, s, 2, "approve", token)
            assert again.status == 200
            assert '<p class="notice error" role="status">绑定申请 #2 已经处理过了（已拒绝）' in (
                await again.text()
            )
        await told(s, "oLi", "您的志愿者绑定申请未通过")
        assert await status_of(s, 1) == BindingStatus.PENDING
        assert await status_of(s, 2) == BindingStatus.REJECTED
