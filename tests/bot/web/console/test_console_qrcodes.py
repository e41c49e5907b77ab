"""小区二维码 in the console: a compound's code made through the server's WeChat client, as a
PNG a phone can read; another community's compound refused; WeChat's refusal one line."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from storage import org
from tests.bot.cli.test_qrcode import decoded
from tests.bot.web.console.site import EAST_COMPOUND, WEST_COMPOUND, Site, site

CREATE = "/cgi-bin/qrcode/create"


async def compound_id(s: Site, name: str) -> int:
    async with s.db.transaction() as session:
        place = await org.find_compound(session=session, name=name)
        assert place is not None
        return place.compound_id


async def test_a_worker_downloads_their_compounds_code_and_only_theirs(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s:
        east, west = await compound_id(s, EAST_COMPOUND), await compound_id(s, WEST_COMPOUND)
        async with s.logged_in("east") as client:
            page = await (await client.get(f"{s.url}/qrcodes")).text()
            assert EAST_COMPOUND in page and f"/console/compounds/{east}/qrcode.png" in page
            assert WEST_COMPOUND not in page and f"/compounds/{west}/" not in page
            answer = await client.get(f"{s.url}/compounds/{east}/qrcode.png")
            assert answer.status == 200 and answer.content_type == "image/png"
            assert answer.headers["Content-Disposition"] == (
                'attachment; filename="qrcode-____.png"; '
                f"filename*=UTF-8''{quote(f'qrcode-{EAST_COMPOUND}.png')}"
            )
            [url] = decoded(await answer.read())
            assert s.server.standin.qrcodes[url] == f"compound:{east}"
            # Another community's compound: not found, and WeChat is not asked.
            answer = await client.get(f"{s.url}/compounds/{west}/qrcode.png")
            assert answer.status == 404 and "没有找到这个小区" in await answer.text()
            assert (await client.get(f"{s.url}/compounds/999/qrcode.png")).status == 404
        assert len(s.server.standin.bodies[CREATE]) == 1
        async with s.logged_in("street") as client:
            page = await (await client.get(f"{s.url}/qrcodes")).text()
            assert EAST_COMPOUND in page and WEST_COMPOUND in page
            answer = await client.get(f"{s.url}/compounds/{west}/qrcode.png")
            [url] = decoded(await answer.read())
            assert s.server.standin.qrcodes[url] == f"compound:{west}"


async def test_when_wechat_will_not_make_the_code_the_page_says_why_in_one_line(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s:
        east = await compound_id(s, EAST_COMPOUND)
        png = f"{s.url}/compounds/{east}/qrcode.png"
        async with s.logged_in("east") as client:
            for fault, words in (
                ({"errcode": 48001}, "公众号没有生成带参数二维码的权限"),
                ({"errcode": 45009}, "调用次数用完了"),
                ({"errcode": 40013}, "微信返回错误码 40013"),
                ({"errcode": 0, "http_status": 502}, "暂时连不上微信"),
            ):
                s.server.standin.fail_next(CREATE, **fault)
                answer = await client.get(png)
                page = await answer.text()
                assert answer.status == 200 and str(answer.url) == f"{s.url}/qrcodes", fault
                line = f'<p class="notice error" role="status">{EAST_COMPOUND}的二维码没有生成：'
                assert line in page and words in page, fault
            # Once WeChat answers again, the code comes.
            answer = await client.get(png)
            assert answer.content_type == "image/png" and decoded(await answer.read())
