"""The webhook benchmark's reference: bare aiohttp that checks the signature, parses, replies."""

from __future__ import annotations

import sys

from aiohttp import web
from wechatpy import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature


def create_reference(token: str) -> web.Application:
    """An app doing only the unavoidable work of a WeChat webhook."""

    async def receive(request: web.Request) -> web.Response:
        query = request.query
        check_signature(token, query["signature"], query["timestamp"], query["nonce"])
        message = parse_message(await request.read())
        reply = TextReply(source=message.target, target=message.source, content="收到")
        return web.Response(text=reply.render(), content_type="application/xml")

    app = web.Application()
    app.router.add_post("/wechat", receive)
    return app


if __name__ == "__main__":
    web.run_app(
        create_reference(sys.argv[2]),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        print=None,
        access_log=None,
    )
