"""A real headless Chromium for page tests: Debian's `chromium` driven by Playwright.

Playwright never downloads a browser here: it drives the system's Chromium through
`executable_path` (`.ci/run` installs `chromium` and `fonts-noto-cjk` when missing).
Screenshots go to `tests/screenshots/` (ignored by git); `make screenshots` copies the ones
the README shows into `docs/images/`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Page, async_playwright

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 375, "height": 740}  # a common phone's CSS pixels
# Running as root needs --no-sandbox; the rest keep Chromium off the (closed) network.
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str:
    """Where the system's Chromium is ($JINLIN_CHROMIUM, else `chromium` on PATH)."""
    found = os.environ.get("JINLIN_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise RuntimeError(
            "Chromium not found: install Debian's chromium and fonts-noto-cjk "
            "(.ci/run does), or set JINLIN_CHROMIUM"
        )
    return found


@asynccontextmanager
async def phone_page() -> AsyncIterator[Page]:
    """A fresh page in a new headless Chromium, sized like a phone, Chinese locale."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=list(ARGS))
        try:
            context = await browser.new_context(
                viewport=PHONE, device_scale_factor=2, locale="zh-CN", is_mobile=True
            )
            page = await context.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            await browser.close()


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save the whole page (or what the phone's screen shows) as tests/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path
