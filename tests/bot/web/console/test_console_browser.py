"""The console in a real headless Chromium at phone width: log in, assign from the board,
and a screenshot of every page (tests/screenshots/console_*.png, some shown in the README)."""

from __future__ import annotations

import re
from typing import Any

from storage import requests
from storage.models import Status
from tests.bot.web.console.site import (
    EAST,
    EAST_COMPOUND,
    PASSWORD,
    residents,
    seed_weeks,
    site,
    volunteer,
)
from tests.browser import phone_page
from tests.browser import screenshot as save


async def screenshot(page: Any, name: str) -> None:
    """Save the page's picture, and check it fits a phone: nothing scrolls sideways."""
    await save(page, name)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{name} is {width}px wide: it must not scroll sideways on a phone"


async def test_a_worker_logs_in_assigns_from_the_board_and_sees_every_page(
    sqlite_url: str, parser: Any
) -> None:
    async with site(sqlite_url, parser, scheduler=True, console={"board_refresh": "1s"}) as s:
        await residents(s, EAST_COMPOUND, "oE1", "oE2", "oE3", "oE4")
        await volunteer(s.db, "oV1", "王芳", EAST, phone="13912345678")
        await volunteer(s.db, "oV2", "李建国", EAST, skills=["repair", "elderly"])
        await seed_weeks(s)
        number = await s.ask(
            "oR1",
            "阳光花园",
            "明天上午帮我妈去医院取药，她腿脚不便",
            category="medical",
            urgency="urgent",
        )
        await s.ask("oR2", "阳光花园", "楼道灯坏了，晚上很黑", category="repair", building="5")
        async with phone_page() as page:
            await page.goto(s.url + "/")
            assert "/console/login" in page.url
            await screenshot(page, "console_login")
            await page.fill("input[name=username]", "east")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_selector(f"#r{number}")
            await screenshot(page, "console_board")
            # The board refreshes itself: a request asked now appears without a reload.
            late = await s.ask("oR3", "阳光花园", "帮忙取个快递")
            await page.wait_for_selector(f"#r{late}", timeout=5000)
            card = page.locator(f"#r{number}")
            await card.locator("input[name=volunteer]").fill("王芳")
            await card.locator("button", has_text="派单").click()
            await page.wait_for_selector(".notice.ok")
            assert "已把" in await page.locator(".notice").inner_text()
            await page.goto(f"{s.url}/requests/{number}")
            await page.wait_for_selector(".timeline")
            assert "社区派单" in await page.locator(".timeline").inner_text()
            await screenshot(page, "console_request")
            await page.goto(s.url + "/volunteers")
            await page.click("text=从 CSV 导入")
            await page.set_input_files(
                "input[type=file]",
                files=[{"name": "名册.csv", "mimeType": "text/csv", "buffer": _roster()}],
            )
            await page.click("details.import button[type=submit]")
            await page.wait_for_selector(".problems")
            await screenshot(page, "console_volunteers")
            # 赵阿姨 was listed by phone; she claims it in chat and the worker approves here.
            await s.server.wechat.text("oZhao", "绑定 13700137000")
            await page.goto(s.url + "/volunteers")
            claim = page.locator(".claim", has_text="赵阿姨")
            await screenshot(page, "console_bindings")
            await claim.locator("button", has_text="同意").click()
            await page.wait_for_selector(".notice.ok")
            assert "志愿者赵阿姨现在可以接单了" in await page.locator(".notice").inner_text()
            await page.goto(s.url + "/qrcodes")
            await screenshot(page, "console_qrcodes")
            await page.goto(s.url + "/reports")
            await page.wait_for_selector("svg.chart")
            await screenshot(page, "console_reports")
            # 群发: the audience is counted as the worker chooses it; the notice goes out and
            # its page follows the delivery until it is done.
            await page.goto(s.url + "/broadcasts")
            await page.fill("textarea[name=text]", "明天上午9点至12点停水，请提前储水。")
            await page.select_option("select[name=compound]", EAST_COMPOUND)
            await page.wait_for_function(
                f"document.getElementById('preview').textContent.includes('{EAST_COMPOUND} 共')"
            )
            counted = re.search(r"共 (\d+) 人", await page.locator("#preview").inner_text())
            assert counted is not None and int(counted[1]) >= 4
            await screenshot(page, "console_broadcasts")
            await page.click("#composer button[type=submit]")
            await page.wait_for_selector("#notice")
            await page.wait_for_function(
                "document.getElementById('state').textContent === '已发完'", timeout=15_000
            )
            assert await page.locator("[data-k=sent]").inner_text() == counted[1]
            await screenshot(page, "console_broadcast")
            await page.goto(s.url + "/account")
            await page.click("text=生成绑定码")
            await page.wait_for_selector(".code")
            await screenshot(page, "console_account")
        async with s.db.transaction() as session:
            assert (await requests.get(session=session, number=number)).status == Status.ACCEPTED


def _roster() -> bytes:
    return (
        "姓名,手机,技能,社区,小区,楼栋,openid\n"
        f"张阿姨,13800001111,助老|跑腿,{EAST},阳光花园,2号楼,oZhang\n"
        f"陈师傅,1380000,维修,{EAST},阳光花园,6,oChen\n"
        f"刘老师,,助教|飞行,{EAST},阳光花园,1,oLiu\n"
        f"赵阿姨,13700137000,助老,{EAST},阳光花园,4,\n"
    ).encode()
