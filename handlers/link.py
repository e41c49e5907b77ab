"""Linking a community worker's WeChat to their console account: they send 绑定工作台 and the
code the console's 账号 page shows, so chat commands then act within the account's scope.

(绑定 alone is a volunteer's binding by phone: handlers/binding.py.)"""

from __future__ import annotations

import re

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import Router
from storage import accounts, console_sessions

router = Router("link")
COMMANDS = ("绑定工作台", "工作台绑定")
_CODE = re.compile(r"^(?:绑定工作台|工作台绑定)\s*[:：]?\s*(\d{8})\s*$")


@router.text(command=COMMANDS)
async def link(ctx: Ctx, msg: Inbound) -> str:
    match = _CODE.match((msg.text or "").strip())
    if not match:
        return (
            "请发送“绑定工作台”加上社区工作台“我的账号”页上的 8 位数字，例如“绑定工作台 12345678”。"
        )
    # Wrong codes count like wrong passwords, so a code cannot be guessed by trying them all.
    key, settings = f"link:{msg.openid}", ctx.config.console
    since = ctx.now - settings.login_lockout
    if (
        await console_sessions.failures(session=ctx.session, key=key, since=since)
        >= settings.login_failures
    ):
        return "尝试次数过多，请稍后再试。"
    account = await accounts.link_by_code(
        session=ctx.session, code_hash=accounts.code_hash(match[1]), openid=msg.openid, now=ctx.now
    )
    if account is None:
        await console_sessions.record_failure(session=ctx.session, keys=[key], at=ctx.now)
        return "绑定码不对或已过期，请在社区工作台“我的账号”页重新生成。"
    where = await accounts.where_of(session=ctx.session, account=account)
    return (
        f"已绑定社区工作台账号 {account.username}（{where.label}）。"
        "现在可以在这里发送“派单 #编号 志愿者姓名”“统计”等命令。"
    )
