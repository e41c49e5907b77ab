"""删除我的信息: a resident erases their data, after confirming once."""

from __future__ import annotations

from enum import Enum

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import answers, assignment, dialog
from handlers.cancelling import cancel_all
from storage import erasure, offers, requests, volunteers
from storage.models import User

router = Router("privacy")
# Yes to "确定删除吗？": plain agreement or the erasure's own words; anything else keeps the data.
CONFIRM_WORDS = answers.AGREE | {
    "确认删除",
    "确定删除",
    "确认删除我的信息",
    "删除",
    "删除吧",
    "删吧",
}


class Erase(Enum):
    """Erasure asks once: CONFIRM → (erased)."""

    CONFIRM = "confirm"


async def _hand_back_tasks(ctx: Ctx, user: User, *, actor: str) -> None:
    """A volunteer leaving: their tasks go to others, their open offers end."""
    volunteer = await volunteers.find(session=ctx.session, user_id=user.id)
    if volunteer is None or volunteer.id is None:
        return
    for request in await requests.of_volunteer(session=ctx.session, volunteer_id=volunteer.id):
        await assignment.release(ctx, request, volunteer, actor=actor)
    for request in await offers.waiting_for(session=ctx.session, volunteer_id=volunteer.id):
        await assignment.decline_offer(ctx, request, volunteer, actor=actor)


@router.text(command=("删除我的信息", "删除我的资料", "注销", "删除我的数据"))
async def ask_to_erase(ctx: Ctx, user: User) -> str:
    await dialog.ask(ctx, user, Erase.CONFIRM)
    return (
        "删除后，您的称呼、电话、住址和求助内容都会清除，进行中的求助会取消，"
        "志愿者登记也会注销（只保留不含个人信息的统计数字）。\n"
        "确定的话请回复“确认删除”（或“确定”“好的”）；不删除就回复其他任何内容。"
    )


@router.state(Erase.CONFIRM)
async def confirm_erase(ctx: Ctx, msg: Inbound, user: User) -> object:
    await dialog.finish(ctx, user)
    if answers.word(msg.text) not in CONFIRM_WORDS:
        return PASS
    await cancel_all(ctx, user, actor=msg.openid)
    await _hand_back_tasks(ctx, user, actor=msg.openid)
    await erasure.erase_user(session=ctx.session, user=user)
    return "您的信息已删除。感谢您使用近邻互助，需要时随时回来。"
