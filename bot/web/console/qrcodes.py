"""小区二维码: each compound's permanent QR code for the poster at its gate, as `jinlin qrcode`
makes it, through the server's own WeChat client (one access token for the whole account)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.errors import WeChatAPIError
from bot.web.console.common import attachment, places_within, reading
from bot.web.console.render import redirect, render
from bot.web.keys import RUNTIME
from bot.wechat.client import WeChatCredentialsRefused, WeChatRateLimited, WeChatUnavailable
from bot.wechat.qrcode import compound_qrcode

logger = logging.getLogger(__name__)
API_UNAUTHORIZED = 48001  # the account may not make parametric codes (not a verified 服务号)


async def page(request: web.Request) -> web.StreamResponse:
    """The compounds in the worker's scope, each with its code to download."""
    async with reading(request) as session:
        places = await places_within(request, session)
    return render(request, "qrcodes.html", places=places)


async def png(request: web.Request) -> web.StreamResponse:
    """The compound's code as a PNG download; 404 outside the worker's scope, and the page with
    one line saying why when WeChat would not make it."""
    compound_id = int(request.match_info["compound"])
    async with reading(request) as session:
        place = next(
            (p for p in await places_within(request, session) if p.compound_id == compound_id),
            None,
        )
    if place is None:  # another community's compound, or none: the same answer
        return render(request, "error.html", status=404, message="没有找到这个小区。")
    try:
        image = await compound_qrcode(client=request.config_dict[RUNTIME].client, place=place)
    except WeChatAPIError as exc:
        logger.warning("QR code of compound %s not made: errcode %s", compound_id, exc.errcode)
        return redirect(
            "/console/qrcodes", notice=f"{place.compound}的二维码没有生成：{why(exc)}", error=True
        )
    return web.Response(
        body=image,
        content_type="image/png",
        headers={"Content-Disposition": attachment(f"qrcode-{place.compound}.png")},
    )


def why(exc: WeChatAPIError) -> str:
    """What a worker can make of WeChat's refusal, in one line."""
    if isinstance(exc, WeChatCredentialsRefused):
        return "公众号的 AppID、AppSecret 或 IP 白名单有误，请联系技术志愿者。"
    if isinstance(exc, WeChatUnavailable):
        return "暂时连不上微信，请稍后再试。"
    if isinstance(exc, WeChatRateLimited):
        return "微信接口今天的调用次数用完了，请明天再试。"
    if exc.errcode == API_UNAUTHORIZED:
        return "公众号没有生成带参数二维码的权限（需要认证的服务号）。"
    return f"微信返回错误码 {exc.errcode}，请稍后再试或联系技术志愿者。"
