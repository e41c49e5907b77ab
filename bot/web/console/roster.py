"""The volunteer roster: the list, CSV import (the importer of `jinlin import volunteers`,
each bad row shown with its line and reasons) and CSV export in the same columns."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.roster.commands import store_roster
from bot.roster.formats import Problem, RosterRow, decode, read_roster
from bot.web.console import bindings
from bot.web.console.common import csv_response, reading, within
from bot.web.console.keys import admin_of
from bot.web.console.render import render
from bot.web.console.roster_words import chinese
from bot.web.console.words import CATEGORY
from bot.web.keys import CONFIG, DATABASE
from storage import roster
from storage.availability import SLOTS
from storage.errors import InvalidInput
from storage.models import RosterEntry, Volunteer

EXPORT_HEADER = (
    "openid",
    "name",
    "phone",
    "skills",
    "community",
    "compound",
    "building",
    "street",
    "availability",
)


async def page(request: web.Request, **result: object) -> web.StreamResponse:
    """The roster inside the worker's scope, with the import form (and its last result), and
    the listed volunteers still waiting for their WeChat with the claims to decide."""
    async with reading(request) as session:
        listed = await _listings(request, session)
        claims = await bindings.claims_within(request, session)
    status = 400 if result.get("error") else 200
    return render(
        request,
        "volunteers.html",
        status=status,
        volunteers=[v for v in listed if v.openid is not None],
        unbound=[v for v in listed if v.openid is None],
        claims=claims,
        claimed={c.entry.phone for c in claims},
        claimant=bindings.claimant,
        skills=_skills,
        **{"result": None, "error": "", **result},
    )


async def _listings(request: web.Request, session: AsyncSession) -> list[roster.Listing]:
    return await roster.listings(
        session=session,
        where=await within(request, session, Volunteer.compound_id),
        listed_where=await within(request, session, RosterEntry.compound_id),
    )


def _skills(stored: str) -> str:
    return "、".join(CATEGORY.get(s, s) for s in stored.split("|") if s)


async def import_csv(request: web.Request) -> web.StreamResponse:
    """Import an uploaded roster; rows outside the worker's community or street are refused."""
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return await page(request, error="请选择要导入的 CSV 文件。")
    data = upload.file.read()
    admin = admin_of(request)
    try:
        rows, problems = read_roster(decode(data), default_street=admin.where.street)
    except InvalidInput as exc:
        return await page(request, error=f"无法导入：{chinese(str(exc))}。")
    mine, theirs = _inside(rows, admin.where.street, admin.where.community)
    stored = await store_roster(
        request.config_dict[DATABASE],
        mine,
        [*problems, *theirs],
        task_limit=request.config_dict[CONFIG].routing.task_limit,
    )
    result = {
        "imported": stored.imported,
        "created": stored.created,
        "updated": stored.imported - stored.created,
        "unbound": stored.unbound,
        "problems": [
            (p.line, "；".join(chinese(r) for r in p.reason.split("; "))) for p in stored.problems
        ],
        "name": upload.filename,
    }
    return await page(request, result=result)


def _inside(
    rows: list[RosterRow], street: str, community: str | None
) -> tuple[list[RosterRow], list[Problem]]:
    mine, theirs = [], []
    for row in rows:
        if row.street != street:
            theirs.append(Problem(row.line, f"街道“{row.street}”不在您的管辖范围"))
        elif community is not None and row.community != community:
            theirs.append(Problem(row.line, f"社区“{row.community}”不是您的社区"))
        else:
            mine.append(row)
    return mine, theirs


async def export_csv(request: web.Request) -> web.StreamResponse:
    """The roster as CSV in the import's columns (Chinese skill and time names), so an edited
    export imports back."""
    async with reading(request) as session:
        listed = await _listings(request, session)
    return csv_response(
        EXPORT_HEADER,
        (
            (
                v.openid or "",
                v.name,
                v.phone,
                "|".join(CATEGORY.get(s, s) for s in v.skills.split("|") if s),
                v.community,
                v.compound,
                v.building,
                v.street,
                "|".join(SLOTS.get(s, s) for s in v.availability.split("|") if s),
            )
            for v in listed
        ),
        filename="volunteers.csv",
    )
