"""The reports' figures, week by week, from the requests of the period (pure functions)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.models import Status
from storage.reports import Fact

COMPLETED = (Status.DONE, Status.CLOSED)


@dataclass
class Week:
    """One week's figures (weeks start on Monday, local time)."""

    start: date
    by_category: dict[str, int] = field(default_factory=dict)
    created: int = 0
    completed: int = 0
    waits: list[float] = field(default_factory=list)  # minutes from request to acceptance
    scores: list[int] = field(default_factory=list)
    minutes: int = 0  # volunteer time credited for the week's completed requests

    @property
    def label(self) -> str:
        return f"{self.start.month}/{self.start.day}"

    @property
    def median_wait(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None

    @property
    def completion(self) -> float | None:
        return self.completed / self.created if self.created else None

    @property
    def satisfaction(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None

    @property
    def hours(self) -> float:
        return self.minutes / 60


def monday(moment: datetime, tz: ZoneInfo) -> date:
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def weeks_of(facts: list[Fact], *, today: date, count: int, tz: ZoneInfo) -> list[Week]:
    """The last `count` weeks up to `today`'s, every one present even when empty.

    A request counts in the week it was asked: its acceptance, completion and score too, so
    that a week's rate compares like with like."""
    first = today - timedelta(days=today.weekday() + 7 * (count - 1))
    weeks = {first + timedelta(weeks=n): Week(first + timedelta(weeks=n)) for n in range(count)}
    for fact in facts:
        week = weeks.get(monday(fact.created_at, tz))
        if week is None:
            continue
        week.created += 1
        week.by_category[fact.category] = week.by_category.get(fact.category, 0) + 1
        if fact.accepted_at is not None:
            week.waits.append((fact.accepted_at - fact.created_at).total_seconds() / 60)
        if fact.status in COMPLETED:
            week.completed += 1
            week.minutes += fact.credited_minutes or 0
        if fact.score is not None:
            week.scores.append(fact.score)
    return list(weeks.values())


def score_counts(facts: list[Fact]) -> dict[int, int]:
    """How many requests got each score, 1 to 5."""
    found = dict.fromkeys(range(1, 6), 0)
    for fact in facts:
        if fact.score in found:
            found[fact.score] += 1
    return found
