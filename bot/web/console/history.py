"""A request's page: what was asked, by whom, where, and its whole history (events, offers)."""

from __future__ import annotations

from aiohttp import web

from bot.web.console.common import number_of, reading, within
from bot.web.console.render import render
from storage import board, org, requests, users, volunteers
from storage.models import HelpRequest, Volunteer


async def page(request: web.Request) -> web.StreamResponse:
    """Request #number with its history; 404 when it is not inside the worker's scope."""
    number = number_of(request)
    async with reading(request) as session:
        where = await within(request, session, HelpRequest.compound_id)
        item = await board.one(session=session, where=where, number=number)
        if item is None:  # not in the scope or not at all: the same answer either way
            return render(request, "error.html", status=404, message=f"没有找到求助 #{number}。")
        events = await requests.history(session=session, number=number)
        offers = await board.offers_of(session=session, request_id=number)
        resident = await users.by_id(session=session, user_id=item.request.resident_id)
        helper = (
            await volunteers.get(session=session, volunteer_id=item.request.volunteer_id)
            if item.request.volunteer_id
            else None
        )
        names = await board.names_of(session=session, openids=[e.actor for e in events])
        place = (
            await org.place_of(session=session, compound_id=item.request.compound_id)
            if item.request.compound_id
            else None
        )
        suggestions = await board.volunteer_names(
            session=session, where=await within(request, session, Volunteer.compound_id)
        )
    return render(
        request,
        "request.html",
        item=item,
        r=item.request,
        events=events,
        offers=offers,
        resident=resident,
        helper=helper,
        names=names,
        place=place,
        suggestions=suggestions,
        actor_name=lambda actor: _actor(actor, names, resident.openid),
    )


def _actor(actor: str, names: dict[str, str], resident: str) -> str:
    if actor == "system":
        return "系统"
    if actor.startswith("admin:"):
        return f"社区工作者 {actor.removeprefix('admin:')}"
    if actor == resident:
        return f"居民 {names.get(actor, '')}".strip()
    return names.get(actor, "社区工作者" if actor else "")
