"""The broadcast composer (群发): audience, a live count with WeChat's quota warnings, now or
at a set time; and each notice's progress (sent / failed / pending), built on the broadcast
engine's storage (storage/broadcasts.py, storage/audience.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from aiohttp import web

from bot.web.console.common import reading
from bot.web.console.keys import Admin, admin_of
from bot.web.console.render import redirect, render
from bot.web.keys import CONFIG, DATABASE, RUNTIME
from handlers.broadcast import STATE_WORDS, rules_for
from storage import audience, broadcasts, org, scope, tags
from storage.audience import AudienceSpec
from storage.errors import Conflict, InvalidInput, NotFound
from storage.types import utcnow

ROLES = {"all": "全部", "resident": "居民", "volunteer": "志愿者"}
LIVE = frozenset({"scheduled", "sending"})


def audience_scope(admin: Admin) -> audience.Scope:
    """The worker's scope as the broadcast engine takes it."""
    return audience.Scope(community_id=admin.where.community_id, street_id=admin.where.street_id)


def spec_of(form: dict[str, str]) -> AudienceSpec:
    """The audience the form names; empty fields leave it wide."""
    role = form.get("role") or "all"
    return AudienceSpec(
        community=form.get("community") or None,
        compound=form.get("compound") or None,
        building=(form.get("building") or "").strip() or None,
        role=role if role in ROLES else "bogus",  # type: ignore[arg-type]
        tag=form.get("tag") or None,
    )


async def page(
    request: web.Request, *, error: str = "", form: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    """The composer and the worker's recent notices with their progress."""
    admin = admin_of(request)
    mine = audience_scope(admin)
    async with reading(request) as session:
        places = [
            p
            for p in await org.places(session=session)
            if scope.covers(admin.where.scope, p.community_id, p.street_id)
        ]
        known_tags = await tags.names(session=session)
        recent = await broadcasts.list_broadcasts(session=session, scope=mine, limit=20)
    return render(
        request,
        "broadcasts.html",
        status=status,
        places=places,
        communities=sorted({p.community for p in places}),
        tags=known_tags,
        roles=ROLES,
        recent=recent,
        states=STATE_WORDS,
        error=error,
        form=form or {},
    )


async def preview(request: web.Request) -> web.StreamResponse:
    """How many the audience reaches now, and what WeChat's quotas would hold back (JSON)."""
    admin = admin_of(request)
    config = request.config_dict[CONFIG]
    async with reading(request) as session:
        try:
            chosen = await audience.resolve(
                session=session, spec=spec_of(dict(request.query)), scope=audience_scope(admin)
            )
        except InvalidInput as exc:
            return web.json_response({"error": str(exc)})
        found = await broadcasts.preview(
            session=session,
            audience=chosen,
            scope=audience_scope(admin),
            rules=await rules_for(session, config),
            now=utcnow(),
        )
    return web.json_response(
        {
            "label": chosen.label,
            "count": found.count,
            "opted_out": found.opted_out,
            "calls": found.calls,
            "warnings": [w.zh for w in found.warnings],
        }
    )


async def create(request: web.Request) -> web.StreamResponse:
    """Send (or schedule) the notice; on bad input the form comes back with the reason."""
    admin = admin_of(request)
    config = request.config_dict[CONFIG]
    form = {k: str(v) for k, v in (await request.post()).items() if k != "csrf"}
    now = utcnow()
    try:
        send_at = _send_at(form, config.org.tz) if form.get("when") == "later" else None
        async with request.config_dict[DATABASE].transaction() as session:
            chosen = await audience.resolve(
                session=session, spec=spec_of(form), scope=audience_scope(admin)
            )
            notice = await broadcasts.create_broadcast(
                session=session,
                text=form.get("text", ""),
                audience=chosen,
                scope=audience_scope(admin),
                rules=await rules_for(session, config),
                created_by=admin.actor,
                now=now,
                send_at=send_at,
            )
    except InvalidInput as exc:
        return await page(request, error=str(exc), form=form, status=400)
    engine = request.config_dict[RUNTIME].broadcaster
    if engine is not None:
        engine.kick()
    when = "现在开始发送" if send_at is None else "已定时"
    return redirect(f"/console/broadcasts/{notice.id}", notice=f"通知已创建，{when}。")


def _send_at(form: dict[str, str], tz: object) -> datetime:
    raw = form.get("at", "").strip()
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("请选择定时发送的日期和时间") from None
    if local.tzinfo is not None:
        raise InvalidInput("请选择定时发送的日期和时间")
    return local.replace(tzinfo=tz)  # type: ignore[arg-type]


async def _progress(request: web.Request) -> broadcasts.Progress | None:
    number = int(request.match_info["number"])
    async with reading(request) as session:
        try:
            return await broadcasts.progress(
                session=session, broadcast_id=number, scope=audience_scope(admin_of(request))
            )
        except NotFound:
            return None


async def notice_page(request: web.Request) -> web.StreamResponse:
    """One notice: its text, audience and progress, refreshing itself while it goes out."""
    found = await _progress(request)
    if found is None:
        return render(request, "error.html", status=404, message="没有找到这条通知。")
    return render(request, "broadcast.html", b=found, states=STATE_WORDS, live=found.state in LIVE)


async def progress_json(request: web.Request) -> web.StreamResponse:
    """A notice's progress for the page to refresh itself with."""
    found = await _progress(request)
    if found is None:
        raise web.HTTPNotFound()
    data = asdict(found)
    return web.json_response(
        {key: data[key] for key in ("state", "recipients", "sent", "failed", "skipped", "pending")}
        | {"state_words": STATE_WORDS.get(found.state, found.state), "live": found.state in LIVE}
    )


async def cancel(request: web.Request) -> web.StreamResponse:
    """Withdraw a notice that has not started going out."""
    number = int(request.match_info["number"])
    back = f"/console/broadcasts/{number}"
    try:
        async with request.config_dict[DATABASE].transaction() as session:
            await broadcasts.cancel_broadcast(
                session=session, broadcast_id=number, scope=audience_scope(admin_of(request))
            )
    except NotFound:
        return render(request, "error.html", status=404, message="没有找到这条通知。")
    except Conflict as exc:
        return redirect(back, notice=str(exc), error=True)
    return redirect(back, notice="通知已撤回。")
