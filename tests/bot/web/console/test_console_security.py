"""The console's guard: sessions on every route, CSRF on every change, one community's worker
kept out of another's data, login guessing limited across processes, sessions that end."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.core.config import Config
from bot.web.app import create_app
from bot.web.console import auth, create_console
from storage import requests
from storage.models import Status
from tests.bot.web.console.site import EAST, PASSWORD, WEST, Site, site, volunteer
from tests.conftest import make_config
from tests.servers import serving


def console_routes() -> list[tuple[str, str]]:
    """Every route of the console but the public ones, with a concrete path."""
    console = create_console(make_config())
    found = []
    for route in console.router.routes():
        if route.name in auth.PUBLIC or route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path") or ""
        found.append((route.method, re.sub(r"\{\w+\}", "1", path)))
    return found


ROUTES = console_routes()
CHANGES = [(method, path) for method, path in ROUTES if method == "POST"]


def test_the_route_table_covers_the_console() -> None:
    assert ("GET", "/") in ROUTES and ("POST", "/requests/1/assign") in ROUTES
    assert len(CHANGES) >= 4


async def test_every_route_needs_a_session(sqlite_url: str, parser: Any) -> None:
    async with site(sqlite_url, parser) as s, s.browser() as client:
        for method, path in ROUTES:
            answer = await client.request(method, s.url + path, allow_redirects=False)
            if method == "GET":
                assert answer.status in (302, 303), (path, answer.status)
                assert answer.headers["Location"].startswith("/console/login?next="), path
            else:
                assert answer.status == 401, (method, path, answer.status)
            scripted = await client.request(
                method, s.url + path, allow_redirects=False, headers={"Accept": "*/*"}
            )
            assert scripted.status == 401, (method, path, scripted.status)


@pytest.mark.parametrize(("method", "path"), CHANGES)
async def test_a_change_without_the_right_csrf_token_is_refused(
    sqlite_url: str, parser: Any, method: str, path: str
) -> None:
    async with site(sqlite_url, parser) as s:
        number = await s.ask("oR1", "阳光花园", "帮我买点菜")
        await volunteer(s.db, "oV1", "王芳", EAST)
        async with s.logged_in("east") as client:
            for token in (None, "wrong"):
                data = {"volunteer": "王芳"} | ({"csrf": token} if token else {})
                answer = await client.request(
                    method, s.url + path.replace("/1/", f"/{number}/"), data=data
                )
                assert answer.status == 403, (path, token, answer.status)
                assert "页面已过期" in await answer.text()
            answer = await client.post(
                f"{s.url}/requests/{number}/assign",
                data={"volunteer": "王芳"},
                headers={"X-CSRF-Token": "wrong"},
            )
            assert answer.status == 403
        assert (await _request(s, number)).status == Status.OPEN


async def test_the_login_form_itself_needs_its_token(sqlite_url: str, parser: Any) -> None:
    async with site(sqlite_url, parser) as s, s.browser() as client:
        answer = await client.post(
            f"{s.url}/login", data={"username": "east", "password": PASSWORD}, allow_redirects=False
        )
        assert answer.status == 403 and auth.COOKIE not in answer.cookies


async def _request(s: Site, number: int) -> Any:
    async with s.db.transaction() as session:
        return await requests.get(session=session, number=number)


async def test_a_community_worker_neither_sees_nor_changes_another_communitys_data(
    db_url: str, parser: Any
) -> None:
    async with site(db_url, parser) as s:
        await volunteer(s.db, "oEastV", "东边志愿者", EAST)
        await volunteer(s.db, "oWestV", "西边志愿者", WEST)
        east = await s.ask("oR1", "阳光花园", "东边的求助：买菜")
        west = await s.ask("oR2", "幸福里", "西边的求助：修水管", category="repair")
        async with s.logged_in("east") as client:
            token = await s.csrf(client)
            pages = {
                "/": "东边的求助",
                "/board/rows": "东边的求助",
                "/board/rows?status=open": "东边的求助",
                "/volunteers": "东边志愿者",
                "/volunteers.csv": "东边志愿者",
                "/reports.csv": "requests",
            }
            for path, mine in pages.items():
                text = await (await client.get(s.url + path)).text()
                assert mine in text, path
                assert "西边" not in text, path
            report = await (await client.get(s.url + "/reports.csv?weeks=4")).text()
            assert sum(int(line.split(",")[1]) for line in report.splitlines()[1:]) == 1
            answer = await client.get(f"{s.url}/requests/{west}")
            assert answer.status == 404 and "西边" not in await answer.text()
            # 派单 of the other community's request, or to its volunteer: neither happens.
            for number, name in ((west, "西边志愿者"), (east, "西边志愿者"), (west, "东边志愿者")):
                answer = await client.post(
                    f"{s.url}/requests/{number}/assign",
                    data={"volunteer": name, "csrf": token, "back": "/console/"},
                )
                assert "已把" not in await answer.text()
            # Importing a roster row of the other community is refused, row by row.
            roster = (
                "openid,name,phone,skills,community,compound,building\n"
                f"oNew1,新东,,errand,{EAST},阳光花园,1\n"
                f"oNew2,新西,,errand,{WEST},幸福里,1\n"
            )
            page = await (
                await client.post(f"{s.url}/volunteers/import", data=upload(roster.encode(), token))
            ).text()
            # What was imported reads as done; only the refused row is an error.
            done, _, refused = page.partition('class="notice error"')
            assert '<div class="notice ok" role="status">' in done and "已导入 1 人" in done
            assert (
                "第 3 行" in refused and "不是您的社区" in refused and "已导入 1 人" not in refused
            )
        assert (await _request(s, west)).status == Status.OPEN
        assert (await _request(s, east)).status == Status.OPEN
        async with s.logged_in("west") as client:
            text = await (await client.get(s.url + "/volunteers")).text()
            assert "西边志愿者" in text and "新西" not in text and "东边" not in text
        async with s.logged_in("street") as client:
            board = await (await client.get(s.url + "/")).text()
            assert "东边的求助" in board and "西边的求助" in board


def upload(body: bytes, token: str) -> aiohttp.FormData:
    """A roster file as the import form sends it."""
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("file", body, filename="roster.csv", content_type="text/csv")
    return form


async def test_bad_form_input_gets_a_message_on_the_page_never_a_500(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s:
        number = await s.ask("oR1", "阳光花园", "帮我买点菜")
        async with s.logged_in("east") as client:
            token = await s.csrf(client)
            for volunteer_name, expected in (
                ("", "请填写"),
                ("无此人", "没有叫"),
                ("长" * 65, "太长"),
            ):
                answer = await client.post(
                    f"{s.url}/requests/{number}/assign",
                    data={"volunteer": volunteer_name, "csrf": token, "back": "//evil.example/"},
                )
                assert answer.status == 200 and str(answer.url).startswith(s.url)
                assert expected in await answer.text()
            answer = await client.post(
                f"{s.url}/requests/99/assign", data={"volunteer": "王芳", "csrf": token}
            )
            assert "没有找到求助 #99" in await answer.text()
            for body, expected in (
                (b"PK\x03\x04rest-of-a-zip", "Excel"),
                (b"", "文件是空的"),
                (b"name,phone\n", "表头缺少"),
                (
                    b"openid,name,phone,skills,community,compound,building\n,x,123,fly,c,d,1\n",
                    "第 2 行",
                ),
            ):
                answer = await client.post(f"{s.url}/volunteers/import", data=upload(body, token))
                assert answer.status in (200, 400) and expected in await answer.text(), expected
            answer = await client.post(f"{s.url}/volunteers/import", data={"csrf": token})
            assert answer.status == 400 and "请选择" in await answer.text()
            for query in (
                "?weeks=abc",
                "?weeks=9999",
                "?status=bogus&compound=x&category=<i>x</i>",
            ):
                page = await client.get(f"{s.url}/reports{query}")
                assert page.status == 200
                board = await client.get(f"{s.url}/{query}")
                assert board.status == 200 and "<i>x" not in await board.text()


async def test_the_login_rate_limit_holds_across_two_server_processes(
    db_url: str, parser: Any
) -> None:
    async with site(db_url, parser, console={"login_failures": 3}) as s:
        other = create_app(s.server.app[_config_key()], parser=parser, scheduler=False)
        async with serving(other) as other_url, s.browser() as client:
            for _ in range(3):
                answer = await s.login(client, "east", "wrong-password")
                assert answer.status == 401 and "用户名或密码不正确" in await answer.text()
            second = Site(s.server)
            second.server = type(s.server)(
                other, other_url, s.server.http, s.server.wechat, s.server.standin
            )
            answer = await second.login(client, "east", PASSWORD)
            assert answer.status == 429 and "失败次数过多" in await answer.text()
            # Another worker's name is not locked by these failures.
            answer = await second.login(client, "west", PASSWORD)
            assert answer.status == 303


def _config_key() -> web.AppKey[Config]:
    from bot.web.keys import CONFIG

    return CONFIG


async def test_a_session_expires_when_unused_and_ends_at_logout(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser, console={"session_idle": "1s"}) as s:
        async with s.logged_in("east") as client:
            assert (await client.get(s.url + "/", allow_redirects=False)).status == 200
            await asyncio.sleep(1.2)
            answer = await client.get(s.url + "/", allow_redirects=False)
            assert answer.status in (302, 303) and "/console/login" in answer.headers["Location"]
        async with s.logged_in("east") as client:
            token = await s.csrf(client)
            await client.post(s.url + "/logout", data={"csrf": token})
            answer = await client.get(s.url + "/", allow_redirects=False)
            assert answer.status in (302, 303)
