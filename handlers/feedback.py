"""Residents' word on the help they got: scores (把评分权交给群众) and complaints."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import Router
from handlers import texts
from nlp import Parse
from storage import requests, volunteers
from storage.errors import Conflict
from storage.models import HelpRequest, Status, User

router = Router("feedback")


@router.text("rate_service", command=("评价",))
async def rate(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    assert user.id is not None
    score = parse.score
    target = await _rated_request(ctx, user.id, parse)
    if isinstance(target, str):
        return target
    if score is None or not 1 <= score <= 5:
        return f"谢谢您的反馈！请给 #{target.id} 打个分：回复“评价 #{target.id} 5分”（1-5分）。"
    try:
        await requests.transition(
            session=ctx.session,
            request=target,
            allowed=(Status.DONE,),
            to=Status.CLOSED,
            actor=msg.openid,
            kind="rated",
            note=f"{score}分",
            score=score,
            closed_at=ctx.now,
        )
    except Conflict:
        return f"求助 #{target.id} 已经评价过了，谢谢！"
    if target.volunteer_id is not None:
        await volunteers.rate(session=ctx.session, volunteer_id=target.volunteer_id, score=score)
        await ctx.notify(
            await volunteers.openid_of(session=ctx.session, volunteer_id=target.volunteer_id),
            f"居民为 #{target.id} 打了 {score} 分，谢谢您的付出！\n"
            + texts.conversation_closed(target),
        )
    if score <= 2:
        await ctx.tell_admins(
            f"居民对 {texts.headline(target)} 的评价只有 {score} 分，请关注。原话：{msg.text}",
            about=target,
        )
    closed = f"\n{texts.conversation_closed(target)}" if target.volunteer_id else ""
    return f"收到您给 #{target.id} 的 {score} 分，谢谢！这个求助就结束啦。{closed}"


async def _rated_request(ctx: Ctx, resident_id: int, parse: Parse) -> HelpRequest | str:
    if parse.task_ref:
        number = int(parse.task_ref)
        mine = await requests.of_resident(
            session=ctx.session, resident_id=resident_id, statuses=(Status.DONE, Status.CLOSED)
        )
        found = next((r for r in mine if r.id == number), None)
        if found is None:
            return f"#{number} 不是您发起的、已完成的求助，没法评价。回复“进度”看看您的求助。"
        if found.status == Status.CLOSED:
            return f"求助 #{number} 已经评价过了，谢谢！"
        return found
    waiting = await requests.of_resident(
        session=ctx.session, resident_id=resident_id, statuses=(Status.DONE,)
    )
    return texts.only_one(
        waiting,
        none="目前没有等您评价的求助。谢谢您的关心！",
        several="有几条求助等您评价",
        example="评价 #{n} 5分",
    )


@router.text("complaint")
async def complain(ctx: Ctx, msg: Inbound, parse: Parse, user: User) -> str:
    assert user.id is not None
    mine = await requests.of_resident(
        session=ctx.session,
        resident_id=user.id,
        statuses=(Status.OPEN, Status.OFFERED, Status.ESCALATED, Status.ACCEPTED, Status.DONE),
    )
    number = int(parse.task_ref) if parse.task_ref else None
    about = next((r for r in mine if r.id == number), mine[0] if mine else None)
    if about is not None:
        await requests.add_event(
            session=ctx.session, request=about, actor=msg.openid, kind="complaint", note=msg.text
        )
    subject = f"关于 {texts.headline(about)} " if about is not None else ""
    await ctx.tell_admins(f"居民投诉{subject}：{msg.text or ''}", about=about)
    return "非常抱歉给您添麻烦了！已转告社区工作人员，会尽快联系您处理。"
