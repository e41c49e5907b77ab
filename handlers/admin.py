"""Community workers in chat: assigning a request to a named volunteer, and the numbers."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import Router
from handlers import assignment, texts
from storage import requests, users, volunteers
from storage.errors import Conflict, NotFound
from storage.models import Status

router = Router("admin")
ADMIN = "admin"
_ASSIGN = re.compile(r"^派单\s*[#＃]?\s*(\d+)\s*(.*)$")


@router.text(command=("派单",), role=ADMIN)
async def assign(ctx: Ctx, msg: Inbound) -> str:
    match = _ASSIGN.match((msg.text or "").strip())
    if not match or not match[2].strip():
        return "格式：派单 #编号 志愿者姓名，例如“派单 #12 王芳”。"
    number, name = int(match[1]), match[2].strip()
    try:
        request = await requests.get(session=ctx.session, number=number)
    except NotFound:
        return f"没有找到求助 #{number}。"
    found = await volunteers.by_name(session=ctx.session, name=name)
    if not found:
        return f"没有叫“{name}”的在册志愿者。"
    if len(found) > 1:
        names = "、".join(v.name for v in found[:6])
        return f"有几位志愿者叫这个名字（{names}），请写全名。"
    volunteer = found[0]
    assert volunteer.id is not None
    try:
        details = await assignment.accept(
            ctx, request, volunteer, actor=msg.openid, kind="assigned"
        )
    except Conflict:
        return f"#{number} 现在{texts.STATUS_WORDS.get(request.status, request.status)}，不能派单。"
    helper = await users.by_id(session=ctx.session, user_id=volunteer.user_id)
    reached = await assignment.reachable_now(ctx, [helper])
    await ctx.notify(helper.openid, "社区为您指派了一个任务：\n" + details)
    done = f"已把 #{number} 派给志愿者{volunteer.name}，并通知了居民。"
    if helper.openid in reached:
        return done
    # The worker is told what really happened: the notice waits until the volunteer writes.
    call = f"请打电话通知本人：{volunteer.phone}。" if volunteer.phone else "请当面或电话通知本人。"
    return f"{done}\n志愿者{volunteer.name}现在收不到公众号的消息（超过48小时没有发消息），{call}"


@router.text(command=("统计", "数据统计"), role=ADMIN)
async def statistics(ctx: Ctx) -> str:
    week_ago = ctx.now - timedelta(days=7)
    overall = await requests.counts_by_status(session=ctx.session)
    week = await requests.counts_by_status(session=ctx.session, since=week_ago)
    active, paused = await volunteers.count_active(session=ctx.session)
    average, scored = await requests.average_score(
        session=ctx.session, since=ctx.now - timedelta(days=30)
    )
    waiting = sum(overall.get(s, 0) for s in (Status.OPEN, Status.OFFERED))
    lines = [
        f"近7天新求助 {sum(week.values())} 条，完成 {week.get(Status.DONE, 0) + week.get(Status.CLOSED, 0)} 条。",
        f"当前：等待接单 {waiting} 条，社区协调中 {overall.get(Status.ESCALATED, 0)} 条，"
        f"进行中 {overall.get(Status.ACCEPTED, 0)} 条，待评价 {overall.get(Status.DONE, 0)} 条。",
        f"志愿者 {active} 人（暂停接单 {paused} 人）。",
    ]
    if average is not None:
        lines.append(f"近30天满意度 {average:.1f} 分（{scored} 条评价）。")
    return "\n".join(lines)
