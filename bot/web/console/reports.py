"""Reports: requests per category per week, time to acceptance, completion rate,
satisfaction and volunteer hours, as charts and as CSV."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy import false

from bot.web.console import charts, figures
from bot.web.console.common import csv_response, reading, within
from bot.web.console.render import render
from bot.web.console.words import CATEGORY
from bot.web.keys import CONFIG
from handlers import texts
from storage import reports, roster
from storage.models import HelpRequest, Volunteer
from storage.types import utcnow

WEEKS = (4, 8, 12, 26)


def _weeks(request: web.Request) -> int:
    asked = request.query.get("weeks", "")
    return int(asked) if asked.isdigit() and int(asked) in WEEKS else 8


async def _figures(request: web.Request) -> tuple[list[figures.Week], list[reports.Fact], int]:
    count, tz = _weeks(request), request.config_dict[CONFIG].org.tz
    now = utcnow()
    today = now.astimezone(tz).date()
    since = now - timedelta(days=7 * count + 7)
    async with reading(request) as session:
        facts = await reports.facts(
            session=session,
            where=await within(request, session, HelpRequest.compound_id),
            since=since,
        )
    return figures.weeks_of(facts, today=today, count=count, tz=tz), facts, count


async def page(request: web.Request) -> web.StreamResponse:
    """The five charts, a table of the same figures, and the volunteers with most hours."""
    weeks, facts, count = await _figures(request)
    labels = [w.label for w in weeks]
    used = [c for c in CATEGORY if any(w.by_category.get(c) for w in weeks)]
    async with reading(request) as session:
        helpers = await roster.listings(
            session=session,
            where=await within(request, session, Volunteer.compound_id),
            listed_where=false(),
        )
    top = sorted((h for h in helpers if h.minutes_credited), key=lambda h: -h.minutes_credited)
    scores = figures.score_counts(facts)
    return render(
        request,
        "reports.html",
        weeks=weeks,
        count=count,
        choices=WEEKS,
        total=sum(w.created for w in weeks),
        per_category=charts.stacked(
            labels,
            {CATEGORY[c]: [w.by_category.get(c, 0) for w in weeks] for c in used},
            title="每周求助（按类别）",
        ),
        waits=charts.bars(
            labels,
            [w.median_wait for w in weeks],
            title="接单用时中位数（分钟）",
            shown="{:.0f} 分钟",
        ),
        completion=charts.bars(
            labels,
            [None if w.completion is None else 100 * w.completion for w in weeks],
            title="完成率（%）",
            top=100,
            shown="{:.0f}%",
            color=charts.PALETTE[2],
        ),
        satisfaction=charts.bars(
            labels,
            [w.satisfaction for w in weeks],
            title="平均满意度（1-5 分）",
            top=5,
            shown="{:.1f} 分",
            color=charts.PALETTE[1],
        ),
        score_chart=charts.bars(
            [f"{s}分" for s in scores],
            list(scores.values()),
            title="评分分布",
            color=charts.PALETTE[1],
        ),
        hours=charts.bars(
            labels,
            [w.hours for w in weeks],
            title="志愿时长（小时）",
            shown=lambda hours: f"{texts.hours(round(hours * 60))} 小时",
            color=charts.PALETTE[4],
        ),
        top_helpers=top[:10],
    )


async def export_csv(request: web.Request) -> web.StreamResponse:
    """The same figures, one row per week."""
    weeks, _, count = await _figures(request)
    header = [
        "week_start",
        "requests",
        *(f"requests_{c}" for c in CATEGORY),
        "completed",
        "completion_rate",
        "median_minutes_to_accept",
        "average_score",
        "scores",
        "volunteer_hours",
    ]
    rows: list[list[str | int | None]] = [
        [
            w.start.isoformat(),
            w.created,
            *(w.by_category.get(c, 0) for c in CATEGORY),
            w.completed,
            "" if w.completion is None else f"{w.completion:.3f}",
            "" if w.median_wait is None else f"{w.median_wait:.1f}",
            "" if w.satisfaction is None else f"{w.satisfaction:.2f}",
            len(w.scores),
            f"{w.hours:.1f}",
        ]
        for w in weeks
    ]
    return csv_response(header, rows, filename=f"report-{count}w.csv")
