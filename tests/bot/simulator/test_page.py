"""The simulator page in a real headless Chromium, against the real servers on loopback:
the whole mutual-aid loop played by two personas, and the 48-hour window at work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from bot.simulator.launch import simulation
from bot.simulator.personas import PHONES
from storage import requests
from storage.models import Status
from tests.browser import phone_page, screenshot

RESIDENT, VOLUNTEER = "oDemoResWang", "oDemoVolChen"


async def open_as(page: Page, base: str, openid: str) -> None:
    """Show the persona's chat and wait until its live connection is up."""
    await page.goto(f"{base}/?persona={openid}")
    await expect(page.locator("body[data-live]")).to_have_count(1)


async def switch_to(page: Page, openid: str) -> None:
    """Pick another persona the way a person would: the picker, then their name."""
    await page.click("#who")
    async with page.expect_navigation():
        await page.click(f'#people a[data-persona="{openid}"]')
    await expect(page.locator("body[data-live]")).to_have_count(1)


async def say(page: Page, text: str) -> None:
    await page.fill("#message", text)
    await page.click("#send")


async def test_ask_offer_accept_complete_rate_in_the_simulator(tmp_path: Path, parser: Any) -> None:
    async with (
        simulation(db_path=tmp_path / "demo.db", port=0, parser=parser) as demo,
        phone_page() as page,
    ):
        await open_as(page, demo.simulator_url, RESIDENT)
        await expect(page.locator(".menu-top")).to_have_count(3)  # the menu the bot installed
        await say(page, "明天下午三点谁能陪我去医院看病")
        await expect(page.locator(".entry.user.text").last).to_have_text(
            "明天下午三点谁能陪我去医院看病"
        )
        await expect(page.locator(".entry.bot.reply").last).to_contain_text("编号 #1（助医）")
        # The offer reaches the volunteer live: the picker counts it without a reload.
        await expect(page.locator("#unread-total")).to_have_text("1")
        await page.click("text=我要求助")
        await page.click("text=怎么求助")
        await expect(page.locator(".entry.user.click").last).to_contain_text("怎么求助")
        await expect(page.locator(".entry.bot.reply").last).to_contain_text("直接说出您的需要")
        await screenshot(page, "simulator_resident", full_page=False)

        await switch_to(page, VOLUNTEER)
        offer = page.locator(".entry.bot.custom").last
        await expect(offer).to_contain_text("接单 #1")
        await expect(offer).not_to_contain_text(PHONES[RESIDENT])  # privacy: no phone in offers
        await say(page, "接单 #1")
        await expect(page.locator(".entry.bot.reply").last).to_contain_text(PHONES[RESIDENT])
        await screenshot(page, "simulator_volunteer", full_page=False)
        await say(page, "我明天两点半到您楼下")  # relayed, not read as a new request
        await expect(page.locator(".entry.bot.reply").last).to_contain_text("已转给")
        await say(page, "完成 #1")
        await expect(page.locator(".entry.bot.reply").last).to_contain_text("#1 已完成")

        await switch_to(page, RESIDENT)
        notices = page.locator(".entry.bot.custom")
        await expect(notices.first).to_contain_text("陈护士")
        await expect(page.locator(".entry.bot.custom", has_text="#1 志愿者陈护士")).to_contain_text(
            "我明天两点半到您楼下"
        )
        await say(page, "好的，门口等你")
        await expect(page.locator(".entry.bot.reply").last).to_contain_text("已转给志愿者陈护士")
        await screenshot(page, "simulator_relay", full_page=False)
        await expect(notices.last).to_contain_text("评价 #1 5分")
        await say(page, "评价 #1 5分")
        await expect(page.locator(".entry.bot.reply").last).to_contain_text("5 分")
        async with demo.phones.db.transaction() as session:  # type: ignore[union-attr]
            request = await requests.get(session=session, number=1)
        assert (request.status, request.score) == (Status.CLOSED, 5)


async def test_a_volunteer_set_back_two_days_gets_a_template_not_a_customer_message(
    tmp_path: Path, parser: Any
) -> None:
    async with (
        simulation(db_path=tmp_path / "demo.db", port=0, parser=parser) as demo,
        phone_page() as page,
    ):
        await open_as(page, demo.simulator_url, VOLUNTEER)
        await page.click("#tools-toggle")
        await page.click('button[data-back="49"]')
        await expect(page.locator("#window .window.closed")).to_contain_text("已关闭")
        await expect(page.locator("#window")).to_contain_text("只能收模板消息")

        await switch_to(page, RESIDENT)
        await say(page, "明天上午谁能帮我量一下血压")
        await expect(page.locator(".entry.bot.reply").last).to_contain_text("#1")

        await switch_to(page, VOLUNTEER)
        card = page.locator(".entry.bot.template .card")
        await expect(card).to_contain_text("模板消息")
        await expect(card).to_contain_text("#1")
        await screenshot(page, "simulator_template", full_page=False)
        # Jinlin knew the window was shut, as WeChat did: it never tried customer service.
        tried = demo.phones.standin.bodies["/cgi-bin/message/custom/send"]
        assert not [body for body in tried if body["touser"] == VOLUNTEER]
        # Writing again opens the window, and the whole offer follows by customer service.
        await say(page, "在的")
        await expect(page.locator(".entry.bot.custom").last).to_contain_text("接单 #1")
