"""The /wechat endpoint: signature → decrypt → parse → dedupe → dispatch with a deadline → reply."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.inbound import DELIVERY_REPORTS, Inbound
from bot.dispatch.dispatcher import SORRY
from bot.web.keys import CONFIG, DISPATCHER, PROTOCOL
from bot.wechat.protocol import BadSignature
from storage.errors import InvalidInput
from storage.redact import mask

logger = logging.getLogger(__name__)

HANDLED_KINDS = frozenset({"text", "voice", "image", "location", "event", "video", "shortvideo"})


async def verify_url(request: web.Request) -> web.Response:
    """WeChat's URL verification: echo `echostr` when the signature is right."""
    try:
        request.app[PROTOCOL].verify(dict(request.query))
    except BadSignature as exc:
        logger.warning("rejected URL verification: %s", exc)
        raise web.HTTPForbidden(text="bad signature") from None
    return web.Response(text=request.query.get("echostr", ""))


async def receive(request: web.Request) -> web.Response:
    """One message or event from WeChat; the reply goes out well inside the 5-second deadline."""
    protocol = request.app[PROTOCOL]
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        logger.warning("rejected a body over %d bytes", request.app[CONFIG].server.max_body_bytes)
        raise
    try:
        envelope = protocol.open(dict(request.query), body)
    except BadSignature as exc:
        logger.warning("rejected message: %s", exc)
        raise web.HTTPForbidden(text="bad signature") from None
    except InvalidInput as exc:
        logger.warning("malformed message: %s", exc)
        raise web.HTTPBadRequest(text="malformed message") from None
    inbound = envelope.inbound
    if inbound.kind not in HANDLED_KINDS or inbound.event in DELIVERY_REPORTS:
        logger.debug(
            "acknowledged %s/%s from %s", inbound.kind, inbound.event, mask(inbound.openid)
        )
        return web.Response(text="success")
    reply = await _reply_within_deadline(request.app, inbound)
    return web.Response(text=protocol.reply(envelope, reply), content_type="application/xml")


async def _reply_within_deadline(app: web.Application, inbound: Inbound) -> str:
    # Too slow for a passive reply, the answer is "" (WeChat then stops retrying) and the
    # dispatcher sends the reply through the outbox when it is ready.
    deadline = app[CONFIG].server.reply_deadline.total_seconds()
    try:
        return await app[DISPATCHER].submit(inbound, within=deadline)
    except Exception:
        logger.exception("handling a message failed")
        return SORRY
