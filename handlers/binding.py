"""Binding a volunteer listed by phone to their WeChat account: the person claims it with the
phone they were listed with (绑定, or 我想当志愿者), a community worker approves (同意绑定 #N).

Until approved nothing of a volunteer's reaches the account: the volunteer record is made on
approval, so no offer, room or phone number can go to a wrong claimant.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import dialog, texts
from handlers.admin import scope_of
from nlp import Parse
from storage import bindings, org, scope
from storage.errors import Conflict, NotFound
from storage.models import BindingStatus, RosterEntry, User
from storage.redact import mask_phones

router = Router("binding")
ADMIN = "admin"
_DECISION = re.compile(r"^(同意|拒绝)绑定\s*[#＃]?\s*(\d+)\s*$")
STATUS_WORDS: dict[str, str] = {
    BindingStatus.APPROVED: "已同意",
    BindingStatus.REJECTED: "已拒绝",
    BindingStatus.WITHDRAWN: "已撤回",
}
PHONE_QUESTION = "请回复社区登记您时留的手机号（11位），例如 13800138000。"
NOT_LISTED = "没有找到用这个号码登记的志愿者。请核对号码再发一次，或联系社区工作人员。"
QUIT = ("取消", "算了", "不绑了", "退出")
REFUSED = "您的志愿者绑定申请未通过，如有疑问请联系社区工作人员。"


@dataclass(frozen=True)
class Decided:
    """How a worker's decision on a binding went: `done` when it was made now, `found` False
    when there is no such claim in their communities; `text` tells the worker."""

    done: bool
    text: str
    found: bool = True


class Bind(Enum):
    """The 绑定 command's one question: PHONE → (claimed)."""

    PHONE = "phone"


@router.text(command=("绑定", "绑定志愿者", "志愿者绑定"))
async def bind(ctx: Ctx, parse: Parse | None, user: User) -> str:
    waiting = await waiting_text(ctx, user)
    if waiting is not None:
        return waiting
    phone = parse.phone if parse is not None else None
    if phone is None:
        await dialog.ask(ctx, user, Bind.PHONE)
        return "绑定志愿者登记：" + PHONE_QUESTION
    entry = await bindings.unbound_by_phone(session=ctx.session, phone=phone)
    return await claim(ctx, user, entry) if entry is not None else NOT_LISTED


@router.state(Bind.PHONE)
async def phone_answer(ctx: Ctx, msg: Inbound, parse: Parse | None, user: User) -> Any:
    text = (msg.text or "").strip()
    if text.startswith(QUIT):
        await dialog.finish(ctx, user)
        return "好的，需要时再发“绑定”。"
    phone = parse.phone if parse is not None else None
    if phone is None:
        return PASS if parse is not None and parse.intent != "unknown" else PHONE_QUESTION
    entry = await bindings.unbound_by_phone(session=ctx.session, phone=phone)
    if entry is None:
        return NOT_LISTED
    await dialog.finish(ctx, user)
    return await claim(ctx, user, entry)


async def waiting_text(ctx: Ctx, user: User) -> str | None:
    """What to tell someone whose claim is still with the workers (None when there is none)."""
    pending = await bindings.pending_of(session=ctx.session, user_id=user.id)
    if pending is None:
        return None
    return f"您的志愿者绑定申请 #{pending.id} 正在等社区工作人员确认，确认后会马上通知您。"


async def claim(ctx: Ctx, user: User, entry: RosterEntry) -> str:
    """Ask the workers to approve that `user` is the listed volunteer `entry`; the reply."""
    assert user.id is not None and entry.id is not None
    binding = await bindings.request(session=ctx.session, user_id=user.id, entry_id=entry.id)
    place = await org.place_of(session=ctx.session, compound_id=entry.compound_id)
    where = (place.compound if place else "") + (f"{entry.building}号楼" if entry.building else "")
    await ctx.tell_admins(
        f"志愿者绑定申请 #{binding.id}：有人在微信里说自己是名单上的志愿者{entry.name}"
        f"（{where}，手机 {mask_phones(entry.phone)}）。"
        f"确认是本人后回复“同意绑定 #{binding.id}”，不是请回复“拒绝绑定 #{binding.id}”。",
        about=entry,
    )
    # The listed name is not echoed: a phone number alone must not reveal who is on the list.
    return (
        f"找到了这个号码的志愿者登记，已请社区工作人员确认（申请 #{binding.id}）。"
        "确认后会通知您，之后附近有邻居需要帮忙时我会找您。"
    )


@router.text(command=("同意绑定", "拒绝绑定"), role=ADMIN)
async def decide(ctx: Ctx, msg: Inbound) -> str:
    match = _DECISION.match((msg.text or "").strip())
    if not match:
        return "格式：同意绑定 #编号（或 拒绝绑定 #编号），编号在绑定申请的通知里。"
    number = int(match[2])
    # A community's worker decides only their community's bindings (duty workers: all).
    mine = await scope.community_ids(session=ctx.session, scope=await scope_of(ctx, msg.openid))
    decide_on = approve if match[1] == "同意" else reject
    return (await decide_on(ctx, number, actor=msg.openid, community_ids=mine)).text


async def approve(
    ctx: Ctx, number: int, *, actor: str, community_ids: Collection[int] | None = None
) -> Decided:
    """Approve binding #number (from chat or the console): the person becomes the listed
    volunteer and is told so. `community_ids` limits it to the worker's communities."""
    try:
        found, volunteer, others = await bindings.approve(
            session=ctx.session,
            number=number,
            actor=actor,
            at=ctx.now,
            task_limit=ctx.config.routing.task_limit,
            community_ids=community_ids,
        )
    except NotFound:
        return Decided(False, f"没有找到绑定申请 #{number}。", found=False)
    except Conflict:
        return Decided(False, await _decided_text(ctx, number, community_ids))
    skills = "、".join(texts.category_name(s) for s in volunteer.skills.split("|") if s)
    await ctx.notify(
        found.openid,
        f"社区已确认，您已绑定为志愿者{volunteer.name}（{skills or '暂未登记技能'}）。"
        "附近有邻居需要帮忙时我会通知您，回复“接单 #编号”就能接；“暂停接单”可以休息一阵。",
    )
    for openid in others:
        await ctx.notify(openid, REFUSED)
    return Decided(True, f"已同意绑定 #{number}：志愿者{volunteer.name}现在可以接单了。")


async def reject(
    ctx: Ctx, number: int, *, actor: str, community_ids: Collection[int] | None = None
) -> Decided:
    """Refuse binding #number (chat or console) and tell the person."""
    try:
        found = await bindings.reject(
            session=ctx.session, number=number, actor=actor, at=ctx.now, community_ids=community_ids
        )
    except NotFound:
        return Decided(False, f"没有找到绑定申请 #{number}。", found=False)
    except Conflict:
        return Decided(False, await _decided_text(ctx, number, community_ids))
    await ctx.notify(found.openid, REFUSED)
    return Decided(True, f"已拒绝绑定 #{number}。")


async def _decided_text(ctx: Ctx, number: int, community_ids: Collection[int] | None) -> str:
    found = await bindings.claim(session=ctx.session, number=number, community_ids=community_ids)
    if found.status == BindingStatus.PENDING:  # the listed volunteer was bound another way
        return f"绑定申请 #{number} 不能同意了：名单上的这位志愿者已经绑定了微信。"
    return f"绑定申请 #{number} 已经处理过了（{STATUS_WORDS.get(found.status, found.status)}）。"
