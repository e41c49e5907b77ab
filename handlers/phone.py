"""我电话137…: one's phone number said in a sentence is kept (added or changed), and told back."""

from __future__ import annotations

import re
from typing import Any

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import relay
from nlp import Parse
from storage import requests, users, volunteers

router = Router("phone")

# A message about one's number: 我电话…, 手机号改成…, 联系方式…, or the number alone.
_ABOUT_PHONE = re.compile(r"电话|手机|号码|联系方式|联系我")
_ONLY_NUMBER = re.compile(r"^[\d\s\-+]+$")


@router.text("unknown", "greeting", "thanks")
async def my_phone(ctx: Ctx, msg: Inbound, parse: Parse | None) -> Any:
    text = (msg.text or "").strip()
    if parse is None or parse.phone is None:
        return PASS
    if not (_ABOUT_PHONE.search(text) or _ONLY_NUMBER.match(text)):
        return PASS
    # Loaded here, not named as an argument: most chat passes by without a number.
    user = await users.get(session=ctx.session, openid=msg.openid)
    old, new = user.phone, parse.phone
    user.phone = new
    ctx.session.add(user)
    assert user.id is not None
    # Requests that carried the old number carry the new one: the volunteer calls that.
    for request in await requests.of_resident(session=ctx.session, resident_id=user.id):
        if old is not None and request.phone == old:
            request.phone = new
            ctx.session.add(request)
    volunteer = await volunteers.find(session=ctx.session, user_id=user.id)
    if volunteer is not None:
        volunteer.phone = new
        ctx.session.add(volunteer)
    changed = "改好了" if old and old != new else "记下了"
    who = "接单后会告诉您帮助的居民" if volunteer is not None else "接单的志愿者能看到，方便联系您"
    reply = f"好的，您的电话{changed}：{new}。{who}。"
    # Said to the other side of a conversation too, where there is exactly one to say it to.
    talks = await relay.talks_of(ctx, msg.openid)
    if len(talks) == 1:
        reply += "\n" + await relay.forward(ctx, msg, talks[0], text)
    return reply
