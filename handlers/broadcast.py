"""群发 in chat: a worker's notice, shown with its audience count and sent once confirmed; and
退订 / 恢复订阅 for anyone who would rather not get notices.

Commands are routed before intents, so a worker's "群发 明天上午停水" is never taken for a
resident's request.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import dialog
from handlers.admin import scope_of
from handlers.places import CLOSE_ENOUGH
from storage import audience, broadcasts, org
from storage.audience import AudienceSpec, Scope
from storage.broadcasts import Rules
from storage.errors import InvalidInput
from storage.models import BroadcastState, User

router = Router("broadcast")
ADMIN = "admin"
COMMANDS = ("群发", "群发通知", "群发消息", "发布通知")
CONFIRM_WORDS = ("确认", "确认发送", "确定", "发送")
CANCEL_WORDS = ("取消", "取消发送", "放弃", "不发了")
_COMMAND = re.compile(r"^(?:群发通知|群发消息|发布通知|群发)[\s,，:：]*")
_OPTION = re.compile(r"^([^\s,，:：]+)[\s,，:：]+")
_BUILDING = re.compile(r"^(\d{1,3})(?:号楼|号|栋|幢)$")
_ROLE_WORDS: dict[str, audience.Role] = {"志愿者": "volunteer", "居民": "resident"}
USAGE = (
    "格式：群发 通知内容，例如“群发 明天上午9点到12点停水”。\n"
    "只发给一个小区、一栋楼或志愿者，就把它写在内容前面，例如“群发 阳光花园 3号楼 明天停水”。"
)
STATE_WORDS: dict[str, str] = {
    BroadcastState.SCHEDULED: "待发送",
    BroadcastState.SENDING: "发送中",
    BroadcastState.DONE: "已发完",
    BroadcastState.CANCELLED: "已撤回",
}


class Notice(Enum):
    """A notice asks once: CONFIRM → (sent) or (dropped)."""

    CONFIRM = "confirm"


async def rules_for(session: AsyncSession, config: Config) -> Rules:
    """The deployment's broadcast rules, from the config (WeChat account type, batches)."""
    home = await audience.home_community(
        session=session, street=config.org.street, community=config.org.community
    )
    return Rules(config.wechat.account_type, config.broadcast.batch_size, config.org.tz, home)


async def chat_scope(ctx: Ctx, openid: str) -> Scope:
    """Where a worker's chat commands reach: `[admin] openids` are the street's duty workers;
    a worker linked to a console account reaches that account's community (or street)."""
    mine = await scope_of(ctx, openid)
    if not mine.everything:
        return Scope(community_id=mine.community_id, street_id=mine.street_id)
    street = await audience.street_id(session=ctx.session, name=ctx.config.org.street)
    return Scope(street_id=street) if street is not None else audience.EVERYWHERE


async def _read_options(ctx: Ctx, body: str, scope: Scope) -> tuple[AudienceSpec, str]:
    """Audience words before the notice ("阳光花园 3号楼 志愿者 …") and the notice itself."""
    named = await org.named_places(session=ctx.session)
    # Longest first, so "阳光花园二期3号楼" is not read as "阳光花园" and "二期3号楼".
    compounds = sorted({name for name, _ in named}, key=len, reverse=True)
    communities = {p.community for _, p in named if scope.community_id in (None, p.community_id)}
    found: dict[str, Any] = {}
    while option := _OPTION.match(body):
        word = option[1]
        # "阳光花园3号楼" names a compound and a building in one word.
        home = next((c for c in compounds if word.startswith(c)), None) or ""
        building = _BUILDING.match(word[len(home) :])
        if home and "compound" not in found and (word == home or building):
            found["compound"] = home
            if building:
                found["building"] = building[1]
        elif building and "compound" in found and "building" not in found:
            found["building"] = building[1]
        elif word in communities and "community" not in found:
            found["community"] = word
        elif word in _ROLE_WORDS and "role" not in found:
            found["role"] = _ROLE_WORDS[word]
        else:
            break
        body = body[option.end() :]
    return AudienceSpec(**found), body.strip()


@router.text(command=COMMANDS, role=ADMIN)
async def compose(ctx: Ctx, msg: Inbound, user: User) -> str:
    body = _COMMAND.sub("", (msg.text or "").strip(), count=1)
    scope = await chat_scope(ctx, msg.openid)
    spec, text = await _read_options(ctx, body, scope)
    if not text:
        return USAGE
    if len(text) > broadcasts.MAX_TEXT:
        return f"通知内容不能超过{broadcasts.MAX_TEXT}字（现在{len(text)}字），请精简后再发。"
    try:
        chosen = await audience.resolve(session=ctx.session, spec=spec, scope=scope)
    except InvalidInput as exc:
        return f"{exc}。"
    rules = await rules_for(ctx.session, ctx.config)
    seen = await broadcasts.preview(
        session=ctx.session, audience=chosen, scope=scope, rules=rules, now=ctx.now
    )
    if not seen.count:
        return f"没有符合条件的接收人（{chosen.label}），通知没有发出。"
    await dialog.ask(ctx, user, Notice.CONFIRM, {"text": text, **_spec_data(spec)})
    lines = [f"将群发给 {seen.count} 人（{chosen.label}）：", f"「{text}」"]
    lines += [f"注意：{w.zh}" for w in seen.warnings]
    if seen.opted_out:
        lines.append(f"另有 {seen.opted_out} 人已退订或取消关注，不会收到。")
    if spec.compound is None:
        lines += [f"注意：{aside}" for aside in [await _unread_place(ctx, text)] if aside]
    lines.append("回复“确认”发送，回复“取消”放弃。")
    return "\n".join(lines)


async def _unread_place(ctx: Ctx, text: str) -> str | None:
    """What to say when the notice begins with what looks meant as a place but was not read
    as one (a bare 5号楼, a misspelt 阳光花苑), so that it would go wider than meant."""
    first = _OPTION.match(text)
    if first is None:
        return None
    word = first[1]
    if _BUILDING.match(word):
        return f"“{word}”前面没有写小区，不会只发给这栋楼；只发给一栋楼请写“群发 小区名 {word} …”。"
    names = {name for name, _ in await org.named_places(session=ctx.session)}
    close = sorted(names, key=lambda name: -fuzz.ratio(word, name))
    if len(word) <= 12 and close and fuzz.ratio(word, close[0]) >= CLOSE_ENOUGH:
        return f"没有叫“{word}”的小区，不会只发给一个小区；是“{close[0]}”的话请重新发“群发 {close[0]} …”。"
    return None


def _spec_data(spec: AudienceSpec) -> dict[str, Any]:
    fields = ("community", "compound", "building", "role", "tag")
    return {
        name: getattr(spec, name) for name in fields if getattr(spec, name) not in (None, "all")
    }


@router.state(Notice.CONFIRM, role=ADMIN, answers=CONFIRM_WORDS + CANCEL_WORDS)
async def confirm(ctx: Ctx, msg: Inbound, user: User, dialog_data: dict[str, Any]) -> object:
    await dialog.finish(ctx, user)
    word = (msg.text or "").strip()
    if word in CANCEL_WORDS:
        return "已取消，这条通知不会发出。"
    if word not in CONFIRM_WORDS:
        return PASS  # something else entirely: the notice is dropped, the message handled
    data = dict(dialog_data)
    text = str(data.pop("text", ""))
    scope = await chat_scope(ctx, msg.openid)
    try:
        chosen = await audience.resolve(session=ctx.session, spec=AudienceSpec(**data), scope=scope)
        notice = await broadcasts.create_broadcast(
            session=ctx.session,
            text=text,
            audience=chosen,
            scope=scope,
            rules=await rules_for(ctx.session, ctx.config),
            created_by=msg.openid,
            now=ctx.now,
        )
    except InvalidInput as exc:
        return f"{exc}，通知没有发出。"
    return (
        f"已开始群发（通知 {notice.id}），共 {notice.recipients} 人。回复“群发进度”查看发送情况。"
    )


@router.text(command=("群发进度", "群发记录"), role=ADMIN)
async def report(ctx: Ctx, msg: Inbound) -> str:
    scope = await chat_scope(ctx, msg.openid)
    recent = await broadcasts.list_broadcasts(session=ctx.session, scope=scope, limit=5)
    if not recent:
        return "还没有群发过通知。"
    lines = []
    for p in recent:
        excerpt = p.text if len(p.text) <= 12 else p.text[:11] + "…"
        counts = f"已发 {p.sent}，失败 {p.failed}，待发 {p.pending}"
        if p.skipped:
            counts += f"，未能送达 {p.skipped}"
        lines.append(
            f"通知 {p.id}「{excerpt}」{p.label}，{STATE_WORDS.get(p.state, p.state)}：{counts}"
        )
    return "\n".join(lines)


@router.text(command=COMMANDS)
async def not_for_residents() -> str:
    return "群发通知只有社区工作人员可以使用。需要帮助的话，请直接说出您的需要。"


@router.text(command=("退订", "退订通知", "取消订阅", "不要通知"))
async def opt_out(ctx: Ctx, msg: Inbound) -> str:
    await broadcasts.set_opt_out(session=ctx.session, openid=msg.openid, opted_out=True)
    return (
        "已退订社区通知，以后不会再收到群发。求助和志愿服务的消息不受影响。\n"
        "想重新接收，回复“恢复订阅”。"
    )


@router.text(command=("恢复订阅", "重新订阅", "订阅通知"))
async def opt_in(ctx: Ctx, msg: Inbound) -> str:
    await broadcasts.set_opt_out(session=ctx.session, openid=msg.openid, opted_out=False)
    return "已恢复订阅，社区的通知会照常发给您。"
