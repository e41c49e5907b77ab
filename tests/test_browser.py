"""The page-test browser itself: Chromium starts, and Chinese text renders with a CJK font."""

from __future__ import annotations

from tests.browser import phone_page, screenshot


async def test_chromium_renders_chinese_at_phone_width() -> None:
    async with phone_page() as page:
        await page.set_content(
            "<meta name=viewport content='width=device-width'>"
            "<p id=t style='font-size:20px'>近邻互助</p>"
        )
        width = await page.evaluate("document.documentElement.clientWidth")
        has_cjk_font = await page.evaluate("document.fonts.check('20px \"Noto Sans CJK SC\"')")
        text_width = await page.evaluate("document.getElementById('t').offsetWidth")
        path = await screenshot(page, "browser_selftest")
    assert width == 375
    assert has_cjk_font
    assert text_width > 0
    assert path.stat().st_size > 1000
