"""What everyone gets: greetings, help, following and unfollowing, and the fallback."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import Router
from handlers import menu
from handlers.places import scanned_compound
from storage import delivery, users, volunteers
from storage.models import User

router = Router("common")

WELCOME = (
    "欢迎关注近邻互助！有什么需要帮忙的，直接用一句话告诉我，"
    "比如“明天下午三点谁能陪我妈去医院”。发送“帮助”看看我能做什么。"
)
HELP = (
    "直接说出您的需要就行，例如“帮我买点菜送到3号楼”。\n"
    "常用：进度（看求助进展）、取消 #编号、评价 #编号 5分、删除我的信息。\n"
    "想帮助邻居？发送“我想当志愿者”。"
)
FALLBACK = "我没太明白您的意思。需要帮忙的话，直接说说是什么事、什么时间、在哪里；发送“帮助”看看我能做什么。"
WORKER_HELP = (
    "社区工作人员常用：派单 #编号 志愿者姓名（把求助指派给志愿者）、统计（近期求助和志愿者数字）、"
    "群发 通知内容（先显示发给多少人，回复“确认”才发出）、群发进度、"
    "同意绑定 #编号 / 拒绝绑定 #编号（志愿者绑定微信）。"
)
NON_TEXT = "收到啦。请用文字或语音说说需要什么帮助，我好为您安排。"


@router.event("subscribe", "subscribe_scan", "scan")
async def welcome(ctx: Ctx, msg: Inbound, user: User) -> str | None:
    # A compound's QR code at its gate: whoever scans it lives there, so their first request
    # is never asked which compound (the building still is, when it matters).
    place = await scanned_compound(ctx, user, msg.event_key)
    home = f"已为您登记小区：{place.compound}（搬家了随时告诉我新地址）。" if place else ""
    if msg.event == "scan":
        return f"{home}有什么需要帮忙的，直接告诉我就行。" if place else None
    volunteer = await volunteers.find(session=ctx.session, user_id=user.id)
    if volunteer is not None and volunteer.active and volunteer.paused:
        return f"欢迎回来，{volunteer.name}！{home}您的接单已暂停，想继续帮助邻居请回复“恢复接单”。"
    return WELCOME.replace("欢迎关注近邻互助！", f"欢迎关注近邻互助！{home}")


@router.event("unsubscribe")
async def farewell(ctx: Ctx, msg: Inbound, user: User) -> None:
    await users.set_subscribed(session=ctx.session, openid=msg.openid, subscribed=False)
    # Offers to someone who no longer follows could never reach them.
    volunteer = await volunteers.find(session=ctx.session, user_id=user.id)
    if volunteer is not None:
        await volunteers.set_paused(session=ctx.session, volunteer=volunteer, paused=True)


async def _unread(ctx: Ctx, msg: Inbound) -> str | None:
    """What to tell someone answering a template's "回复公众号查看详情" (你好, 收到, 什么事):
    the messages that waited for them follow this reply."""
    waiting = await delivery.waiting_for_reader(session=ctx.session, openid=msg.openid, now=ctx.now)
    return f"您有 {waiting} 条未读消息，这就发给您。" if waiting else None


@router.text("greeting")
async def greeting() -> str:
    # No look at what waits for the sender here: greetings are the commonest message and are
    # answered without a statement of their own (issue 15); what waited follows anyway.
    return "您好！有什么需要帮忙的，直接告诉我就行。"


@router.text("thanks")
async def thanks() -> str:
    return "不客气，邻里互助，应该的！"


@router.text("usage_help", command=("帮助", "help", "菜单"))
@router.event("click", key=(menu.HELP, menu.HOW_TO_ASK))
async def usage_help(ctx: Ctx, msg: Inbound) -> str:
    # Workers are told from the config, not by a route of their role: deciding roles costs a
    # query, and 帮助 is among the commonest messages.
    if msg.openid in ctx.config.admin.openids:
        return f"{HELP}\n{WORKER_HELP}"
    return HELP


@router.fallback()
async def fallback(ctx: Ctx, msg: Inbound) -> str:
    unread = await _unread(ctx, msg)  # not misunderstood: answering a template
    if unread:
        return unread
    return FALLBACK if msg.kind in ("text", "voice") and msg.text else NON_TEXT
