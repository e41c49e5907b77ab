"""A compound's QR code for the poster at its gate: WeChat's permanent parametric code, drawn
here as a PNG from the URL WeChat returns (segno: pure Python, no image library needed)."""

from __future__ import annotations

import asyncio
import io

import segno

from bot.wechat.client import WeChatClient
from storage import org
from storage.org import Place

# Big enough to print on an A4 poster and scan from a step away; segno has no text drawing, so
# the compound's name goes on the poster (and in the file name), not into the image.
SCALE = 16


async def compound_qrcode(*, client: WeChatClient, place: Place) -> bytes:
    """The PNG of the compound's QR code: scanning it binds the resident to the compound."""
    url = await client.create_permanent_qrcode(org.compound_scene(place.compound_id))
    return await asyncio.to_thread(render_png, url)


def render_png(url: str, scale: int = SCALE) -> bytes:
    """`url` as a QR code PNG (medium error correction: a poster gets scuffed)."""
    buffer = io.BytesIO()
    # make_qr, not make: a short URL must never come out as a Micro QR, which WeChat cannot scan.
    segno.make_qr(url, error="m", boost_error=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
