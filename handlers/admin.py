"""Community workers in chat: assigning a request to a named volunteer, and the numbers.

A worker acts within their scope: `[admin] openids` are street-wide duty workers who see
everything; a worker whose console account is linked to their openid (绑定工作台, handlers/link.py)
sees their account's community or street. The console's 派单 runs the same rules (assign_named).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import Router
from handlers import assignment, texts
from storage import accounts, org, requests, scope, users, volunteers
from storage.errors import Conflict, NotFound
from storage.models import HelpRequest, Status, Volunteer
from storage.scope import EVERYTHING, NOWHERE, Scope

router = Router("admin")
ADMIN = "admin"
_ASSIGN = re.compile(r"^派单\s*[#＃]?\s*(\d+)\s*(.*)$")


async def scope_of(ctx: Ctx, openid: str) -> Scope:
    """What a worker in chat may see: everything for duty workers, else their account's."""
    if openid in ctx.config.admin.openids:
        return EVERYTHING
    account = await accounts.by_openid(session=ctx.session, openid=openid)
    if account is None:  # the router lets only admins in; unlinked since, they see nothing
        return NOWHERE
    return Scope(street_id=account.street_id, community_id=account.community_id)


async def request_in(ctx: Ctx, where: Scope, number: int) -> HelpRequest:
    """Request #number if it is inside `where`; NotFound otherwise (never telling which)."""
    request = await requests.get(session=ctx.session, number=number)
    if not await scope.holds(session=ctx.session, scope=where, compound_id=request.compound_id):
        raise NotFound(f"no request #{number} in scope")
    return request


@dataclass(frozen=True)
class Assigned:
    """How a 派单 went: done or not, and what to tell the worker."""

    done: bool
    text: str


async def assign_named(ctx: Ctx, where: Scope, number: int, name: str, *, actor: str) -> Assigned:
    """Give request #number to the volunteer called `name`, both inside `where`. The
    volunteer and the resident are told."""
    try:
        request = await request_in(ctx, where, number)
    except NotFound:
        return Assigned(False, f"没有找到求助 #{number}。")
    in_scope = await scope.where_placed(
        session=ctx.session, scope=where, column=Volunteer.compound_id
    )
    found = await volunteers.by_name(session=ctx.session, name=name, where=in_scope)
    name, _, hint = name.partition(" ")
    if not found and hint:  # "王芳 幸福里" or "王芳 8001": which 王芳
        named = await volunteers.by_name(session=ctx.session, name=name, where=in_scope)
        found = [v for v in named if await _fits(ctx, v, hint.strip())]
        if named and not found:
            return Assigned(
                False, f"叫“{name}”的志愿者里，没有对得上“{hint}”的（小区或手机尾号）。"
            )
    if not found:
        return Assigned(False, f"没有叫“{name}”的在册志愿者。")
    if len(found) > 1:
        return Assigned(False, await _which_volunteer(ctx, found, number))
    volunteer = found[0]
    assert volunteer.id is not None
    try:
        details = await assignment.accept(ctx, request, volunteer, actor=actor, kind="assigned")
    except Conflict:
        now = texts.STATUS_WORDS.get(request.status, request.status)
        return Assigned(False, f"#{number} 现在{now}，不能派单。")
    helper = await users.by_id(session=ctx.session, user_id=volunteer.user_id)
    reached = await assignment.reachable_now(ctx, [helper])
    await ctx.notify(helper.openid, "社区为您指派了一个任务：\n" + details)
    lines = [f"已把 #{number} 派给志愿者{volunteer.name}，并通知了居民。"]
    if volunteer.paused:  # the worker may mean it, but should know they said they were away
        lines.append(f"志愿者{volunteer.name}目前暂停接单，请和本人确认能去。")
    if helper.openid not in reached:
        # The worker is told what really happened: the notice waits until the volunteer writes.
        call = (
            f"请打电话通知本人：{volunteer.phone}。"
            if volunteer.phone
            else "请当面或电话通知本人。"
        )
        lines.append(
            f"志愿者{volunteer.name}现在收不到公众号的消息（超过48小时没有发消息），{call}"
        )
    return Assigned(True, "\n".join(lines))


async def _home(ctx: Ctx, volunteer: Volunteer) -> str:
    place = await org.place_of(session=ctx.session, compound_id=volunteer.compound_id or 0)
    return (place.compound if place else "") + (
        f"{volunteer.building}号楼" if volunteer.building else ""
    )


async def _fits(ctx: Ctx, volunteer: Volunteer, hint: str) -> bool:
    """Whether `hint` tells this volunteer apart: their phone's last digits or where they live."""
    if hint.isdigit():
        return volunteer.phone is not None and volunteer.phone.endswith(hint)
    return hint in await _home(ctx, volunteer)


async def _which_volunteer(ctx: Ctx, found: list[Volunteer], number: int) -> str:
    """Several volunteers answer to the name: list them so that the worker can say which."""
    if len({v.name for v in found}) > 1:
        names = "、".join(v.name for v in found[:6])
        return f"有几位志愿者叫这个名字（{names}），请写全名。"
    # The same name twice: writing it in full cannot help, where they live or their phone can.
    lines = []
    for v in found[:6]:
        tail = f"，手机尾号{v.phone[-4:]}" if v.phone else ""
        lines.append(f"{v.name}（{await _home(ctx, v) or '住址未登记'}{tail}）")
    example = await _home(ctx, found[0]) or (found[0].phone or "")[-4:]
    return (
        f"有几位志愿者都叫{found[0].name}：{'、'.join(lines)}。"
        f"请在名字后加上小区或手机尾号，例如“派单 #{number} {found[0].name} {example}”。"
    )


@router.text(command=("派单",), role=ADMIN)
async def assign(ctx: Ctx, msg: Inbound) -> str:
    match = _ASSIGN.match((msg.text or "").strip())
    if not match or not match[2].strip():
        return "格式：派单 #编号 志愿者姓名，例如“派单 #12 王芳”。"
    where = await scope_of(ctx, msg.openid)
    assigned = await assign_named(ctx, where, int(match[1]), match[2].strip(), actor=msg.openid)
    return assigned.text


@router.text(command=("统计", "数据统计"), role=ADMIN)
async def statistics(ctx: Ctx, msg: Inbound) -> str:
    where = await scope_of(ctx, msg.openid)
    asked = await scope.where_placed(
        session=ctx.session, scope=where, column=HelpRequest.compound_id
    )
    helpers = await scope.where_placed(
        session=ctx.session, scope=where, column=Volunteer.compound_id
    )
    week_ago = ctx.now - timedelta(days=7)
    overall = await requests.counts_by_status(session=ctx.session, where=asked)
    week = await requests.counts_by_status(session=ctx.session, since=week_ago, where=asked)
    active, paused = await volunteers.count_active(session=ctx.session, where=helpers)
    average, scored = await requests.average_score(
        session=ctx.session, since=ctx.now - timedelta(days=30), where=asked
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
