"""The console's pages over HTTP: each shows what it should to a logged-in worker."""

from __future__ import annotations

from typing import Any

from storage import requests
from storage.models import Status
from tests.bot.web.console.site import EAST, site, volunteer


async def test_every_page_renders_for_a_worker_with_data(db_url: str, parser: Any) -> None:
    async with site(db_url, parser) as s:
        await volunteer(s.db, "oV1", "王芳", EAST)
        number = await s.ask("oR1", "阳光花园", "帮我买点菜", urgency="urgent")
        async with s.logged_in("east") as client:
            for path in (
                "/",
                "/board/rows",
                f"/requests/{number}",
                "/volunteers",
                "/reports",
                "/reports?weeks=4",
                "/account",
                "/?status=open&category=errand",
            ):
                answer = await client.get(s.url + path)
                assert answer.status == 200, (path, await answer.text())
            board = await (await client.get(s.url + "/")).text()
            assert f"#{number}" in board and "帮我买点菜" in board
            assert "王芳" in await (await client.get(s.url + "/volunteers")).text()


async def test_a_request_for_my_mum_shows_the_requesters_mother_not_my_mum(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s:
        number = await s.ask("oR1", "阳光花园", "帮我妈买点菜", beneficiary="我妈")
        async with s.logged_in("east") as client:
            page = await (await client.get(f"{s.url}/requests/{number}")).text()
        assert "<dt>受助人</dt><dd>求助人的母亲</dd>" in page and "（为我妈）" not in page


async def test_volunteer_hours_read_as_chat_says_them(sqlite_url: str, parser: Any) -> None:
    # Regression: chat said 0 小时 and the console 0.0 小时 for the same volunteer.
    from sqlalchemy import update

    from storage.models import Volunteer

    async with site(sqlite_url, parser) as s:
        await volunteer(s.db, "oV1", "王芳", EAST)
        await volunteer(s.db, "oV2", "李强", EAST)
        async with s.db.transaction() as session:
            await session.execute(
                update(Volunteer).where(Volunteer.name == "李强").values(minutes_credited=90)
            )
        assert "累计志愿时长 0 小时" in (await s.server.wechat.text("oV1", "我的时长")).content
        async with s.logged_in("east") as client:
            listed = await (await client.get(s.url + "/volunteers")).text()
            reports = await (await client.get(s.url + "/reports")).text()
        assert "完成 0 次 · 0 小时" in listed and "1.5 小时" in listed and ".0 小时" not in listed
        assert "<td>李强</td><td>1.5</td>" in reports


async def test_assign_from_the_board_gives_the_request_to_the_volunteer(
    db_url: str, parser: Any
) -> None:
    async with site(db_url, parser) as s:
        await volunteer(s.db, "oV1", "王芳", EAST)
        number = await s.ask("oR1", "阳光花园", "帮我买点菜")
        async with s.logged_in("east") as client:
            token = await s.csrf(client)
            answer = await client.post(
                f"{s.url}/requests/{number}/assign",
                data={"volunteer": "王芳", "csrf": token, "back": "/console/"},
            )
            page = await answer.text()
            assert answer.status == 200 and "已把" in page, page
        async with s.db.transaction() as session:
            assigned = await requests.get(session=session, number=number)
            events = await requests.history(session=session, number=number)
        assert assigned.status == Status.ACCEPTED
        assert events[-1].actor == "admin:east" and events[-1].kind == "assigned"


async def test_history_records_the_state_a_request_left_regression_from_status_was_the_new_one(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser) as s:
        await volunteer(s.db, "oV1", "王芳", EAST)
        number = await s.ask("oR1", "阳光花园", "帮我买点菜")
        async with s.logged_in("east") as client:
            token = await s.csrf(client)
            await client.post(
                f"{s.url}/requests/{number}/assign", data={"volunteer": "王芳", "csrf": token}
            )
            page = await (await client.get(f"{s.url}/requests/{number}")).text()
        async with s.db.transaction() as session:
            events = await requests.history(session=session, number=number)
        assert (events[-1].from_status, events[-1].to_status) == (Status.OPEN, Status.ACCEPTED)
        assert "待安排 → 进行中" in page


async def test_the_board_puts_escalated_and_urgent_requests_first_and_filters(
    sqlite_url: str, parser: Any
) -> None:
    from sqlalchemy import update

    from storage.models import HelpRequest

    async with site(sqlite_url, parser) as s:
        plain = await s.ask("oR1", "阳光花园", "普通的事", category="errand")
        urgent = await s.ask("oR2", "阳光花园", "急事", category="medical", urgency="urgent")
        stuck = await s.ask("oR3", "阳光花园", "没人接的事", category="repair")
        async with s.db.transaction() as session:
            await session.execute(
                update(HelpRequest)
                .where(HelpRequest.id == stuck)  # type: ignore[arg-type]
                .values(status=Status.ESCALATED)
            )
        async with s.logged_in("east") as client:
            page = await (await client.get(s.url + "/board/rows")).text()
            order = [page.index(f'id="r{n}"') for n in (stuck, urgent, plain)]
            assert order == sorted(order)
            medical = await (await client.get(s.url + "/board/rows?category=medical")).text()
            assert f'id="r{urgent}"' in medical and f'id="r{plain}"' not in medical
            escalated = await (await client.get(s.url + "/board/rows?status=escalated")).text()
            assert f'id="r{stuck}"' in escalated and f'id="r{urgent}"' not in escalated


async def test_a_roster_imported_on_the_page_exports_back_the_same_including_phone_only_rows(
    sqlite_url: str, parser: Any
) -> None:
    from tests.bot.web.console.test_console_security import upload

    async with site(sqlite_url, parser) as s:
        roster = (
            "openid,name,phone,skills,community,compound,building,street,availability\n"
            f"oA,甲,13800001111,助老|跑腿,{EAST},阳光花园,2,示范街道,周末\n"
            f",乙,13800002222,维修,{EAST},阳光花园,5,示范街道,随时\n"
        )
        async with s.logged_in("east") as client:
            token = await s.csrf(client)
            page = await (
                await client.post(f"{s.url}/volunteers/import", data=upload(roster.encode(), token))
            ).text()
            assert "已导入 2 人" in page and "其中 1 人还没绑定微信" in page
            # The technical word appears once, where the hint says what 微信标识 is.
            assert page.count("openid") == 1 and "微信标识是" in page
            listed = await (await client.get(f"{s.url}/volunteers")).text()
            assert "乙" in listed and "待绑定微信" in listed
            exported = await (await client.get(f"{s.url}/volunteers.csv")).text()
            again = await (
                await client.post(
                    f"{s.url}/volunteers/import", data=upload(exported.encode(), token)
                )
            ).text()
            assert "已导入 2 人（新增 0，更新 2）" in again and "notice error" not in again
        lines = exported.lstrip("\ufeff").splitlines()
        assert sorted(lines[1:]) == sorted(
            [
                f"oA,甲,13800001111,助老|跑腿,{EAST},阳光花园,2,示范街道,周末白天|周末晚上",
                f",乙,13800002222,维修,{EAST},阳光花园,5,示范街道,随时",
            ]
        )
