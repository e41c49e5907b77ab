"""Volunteers: taking, giving back and finishing tasks; pausing; their hours."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import Router
from handlers import assignment, menu, texts
from handlers.signup import Signup
from nlp import Parse
from storage import offers, requests, users, volunteers
from storage.errors import Conflict, Forbidden, NotFound
from storage.models import HelpRequest, Status, User, Volunteer

router = Router("volunteer")
VOLUNTEER = "volunteer"
MY_TASKS = ("我的任务", "我的单子", "任务列表")
PAUSE = ("暂停接单", "暂停派单", "先别派单")
RESUME = ("恢复接单", "继续接单", "开始接单")
MY_HOURS = ("我的时长", "志愿时长", "我的积分")


async def _me(ctx: Ctx, user: User) -> Volunteer:
    volunteer = await volunteers.find(session=ctx.session, user_id=user.id)
    assert volunteer is not None  # the route's role guarantees it
    return volunteer


def _id(record: HelpRequest | Volunteer) -> int:
    assert record.id is not None
    return record.id


async def _which(
    parse: Parse,
    candidates: Callable[[], Awaitable[list[HelpRequest]]],
    *,
    none: str,
    several: str,
    example: str,
) -> int | str:
    """The task number the message names, else the only candidate's; else what to say."""
    if parse.task_ref:
        return int(parse.task_ref)
    chosen = texts.only_one(await candidates(), none=none, several=several, example=example)
    return chosen if isinstance(chosen, str) else _id(chosen)


async def _request(ctx: Ctx, number: int) -> HelpRequest | None:
    try:
        return await requests.get(session=ctx.session, number=number)
    except NotFound:
        return None


@router.text("accept_task", command=("接单",), role=VOLUNTEER)
async def accept(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    me = await _me(ctx, user)
    assert me.id is not None
    number = await _which(
        parse,
        lambda: offers.waiting_for(session=ctx.session, volunteer_id=_id(me)),
        none="现在没有等您接的求助。有新的求助时我会通知您。",
        several="有几条求助在等人接",
        example="接单 #{n}",
    )
    if isinstance(number, str):
        return number
    request = await _request(ctx, number)
    if request is None or not await offers.was_offered(
        session=ctx.session, request_id=number, volunteer_id=me.id
    ):
        return f"#{number} 没有派给您，接不了。回复“我的任务”看看您的任务。"
    if request.volunteer_id == me.id and request.status == Status.ACCEPTED:
        return f"#{number} 已经是您的任务了。"
    try:
        return await assignment.accept(ctx, request, me, actor=msg.openid)
    except Conflict:
        if request.status == Status.ACCEPTED:
            return f"#{number} 已经被其他志愿者接走了，谢谢您！"
        return f"#{number} {texts.STATUS_WORDS.get(request.status, request.status)}，不用再接了。"


NOTHING_TO_DECLINE = "您现在没有任务。这段时间不方便的话，回复“暂停接单”，就不会再给您派单。"


@router.text("decline_task", command=("放弃",), role=VOLUNTEER)
async def decline(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    me = await _me(ctx, user)
    assert me.id is not None

    async def mine_or_waiting() -> list[HelpRequest]:
        mine = await requests.of_volunteer(session=ctx.session, volunteer_id=_id(me))
        return mine or await offers.waiting_for(session=ctx.session, volunteer_id=_id(me))

    # "这周出差，先不接单了" with nothing to give back means a break: say how to take one.
    number = await _which(
        parse, mine_or_waiting, none=NOTHING_TO_DECLINE, several="您有几个任务", example="放弃 #{n}"
    )
    if isinstance(number, str):
        return number
    request = await _request(ctx, number)
    if request is None:
        return f"没有找到 #{number}。"
    if request.volunteer_id == me.id and request.status == Status.ACCEPTED:
        await assignment.release(ctx, request, me, actor=msg.openid)
        return f"好的，#{number} 已放弃，我们会另找志愿者。谢谢您告诉我们！"
    try:
        await assignment.decline_offer(ctx, request, me, actor=msg.openid)
    except Conflict:
        return f"#{number} 不在您的任务里。"
    return f"好的，#{number} 这次不用您去了，谢谢！"


@router.text("complete_task", command=("完成",), role=VOLUNTEER)
async def complete(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    me = await _me(ctx, user)
    assert me.id is not None
    mine = await requests.of_volunteer(session=ctx.session, volunteer_id=_id(me))

    async def accepted() -> list[HelpRequest]:
        # "办好了" answers the check-in about the one task whose time has come, not one that
        # is still ahead.
        due = [r for r in mine if r.when_at is not None and r.when_at <= ctx.now]
        return due if len(due) == 1 else mine

    number = await _which(
        parse,
        accepted,
        none="您手上没有进行中的任务。",
        several="您有几个任务",
        example="完成 #{n}",
    )
    if isinstance(number, str):
        return number
    request = next((r for r in mine if r.id == number), None)
    if request is None:
        return f"#{number} 不是您正在做的任务，没法标记完成。"
    try:
        await assignment.complete(ctx, request, me, actor=msg.openid, minutes=_credit_minutes(ctx))
    except (Conflict, Forbidden):
        return f"#{number} 现在不能标记完成。"
    return f"辛苦了！#{number} 已完成，记入志愿时长 {texts.hours(_credit_minutes(ctx))} 小时。"


def _credit_minutes(ctx: Ctx) -> int:
    return round(ctx.config.routing.credited_hours * 60)


@router.text(command=MY_TASKS, role=VOLUNTEER)
@router.event("click", key=menu.MY_TASKS, role=VOLUNTEER)
async def my_tasks(ctx: Ctx, user: User) -> str:
    me = await _me(ctx, user)
    assert me.id is not None
    mine = await requests.of_volunteer(session=ctx.session, volunteer_id=me.id)
    waiting = await offers.waiting_for(session=ctx.session, volunteer_id=me.id)
    if not mine and not waiting:
        paused = "（您已暂停接单，回复“恢复接单”继续）" if me.paused else ""
        return f"您现在没有任务。{paused}"
    lines = []
    for request in mine:
        lines.append(f"进行中 {texts.status_line(request, ctx.tz, ctx.local_now)}")
    for request in waiting:
        lines.append(
            f"待接 {texts.headline(request)} · {texts.when_text(request, ctx.tz, ctx.local_now)}"
        )
    lines.append("接单回复“接单 #编号”，办完回复“完成 #编号”。")
    return "\n".join(lines)


@router.text(command=PAUSE, role=VOLUNTEER)
async def pause(ctx: Ctx, user: User) -> str:
    await volunteers.set_paused(session=ctx.session, volunteer=await _me(ctx, user), paused=True)
    return "好的，已暂停接单，这段时间不会再给您派单。想继续时回复“恢复接单”。"


@router.text(command=RESUME, role=VOLUNTEER)
async def resume(ctx: Ctx, user: User) -> str:
    await volunteers.set_paused(session=ctx.session, volunteer=await _me(ctx, user), paused=False)
    return "欢迎回来！已恢复接单，有邻居需要帮忙时我会通知您。"


@router.text(command=MY_HOURS, role=VOLUNTEER)
@router.event("click", key=menu.MY_HOURS, role=VOLUNTEER)
async def my_hours(ctx: Ctx, user: User) -> str:
    me = await _me(ctx, user)
    rating = f"，平均评分 {me.rating_sum / me.rating_count:.1f} 分" if me.rating_count else ""
    return (
        f"{me.name}，您已完成 {me.tasks_completed} 次帮助，"
        f"累计志愿时长 {texts.hours(me.minutes_credited)} 小时{rating}。谢谢您！"
    )


@router.text(
    "accept_task",
    "decline_task",
    "complete_task",
    command=("接单", "放弃", "完成", *MY_TASKS, *PAUSE, *RESUME, *MY_HOURS),
)
@router.event("click", key=(menu.MY_TASKS, menu.MY_HOURS))
async def not_a_volunteer(ctx: Ctx, user: User) -> str:
    pending = users.dialog(user, ctx.now)
    if pending is not None and pending[0] == Signup.__name__:
        # Mid sign-up: the command is not taken as an answer, and the question still waits.
        return "您的志愿者报名还差几步，请先回答上面的问题；不想报了就回复“取消报名”。"
    return "您还不是志愿者。想帮助邻居的话，回复“我想当志愿者”报名。"
