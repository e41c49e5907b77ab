"""The importer on whatever a spreadsheet holds: never a crash, every bad row reported, every
good row imported, nothing half-written."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlmodel import SQLModel

from bot.roster.commands import import_volunteers
from bot.roster.formats import read_roster
from storage.db import Database
from storage.models import RosterEntry, User, Volunteer
from tests.conftest import make_config

HEADER = ["openid", "name", "phone", "skills", "community", "compound", "building", "aliases"]
# A NUL byte makes the whole file "not a CSV text file": one error, tested elsewhere.
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
)
_CELLS = {
    "openid": st.one_of(st.just(""), st.builds("o-{}".format, st.integers(0, 5)), _TEXT),
    "name": st.one_of(st.sampled_from(["王阿姨", "李师傅", "", " "]), _TEXT),
    "phone": st.one_of(
        st.sampled_from(["13800138000", "139 0013 9000", "+86 137 0013 7000", "", "12345"]),
        _TEXT,
    ),
    "skills": st.lists(
        st.sampled_from(["errand", "助老", "维修", "REPAIR", "修飞机", ""]), max_size=3
    ).map("|".join),
    "community": st.sampled_from(["幸福社区", "和平社区", ""]),
    "compound": st.one_of(st.sampled_from(["阳光花园", "幸福里", ""]), _TEXT),
    "building": st.one_of(st.sampled_from(["3", "5号楼", "A座", ""]), _TEXT),
    "aliases": st.lists(st.sampled_from(["阳光", "幸福里", "阳光小区", ""]), max_size=2).map(
        "|".join
    ),
}
_ROWS = st.lists(st.fixed_dictionaries(_CELLS), max_size=8)
_SUMMARY = re.compile(r"^imported (\d+) \(created (\d+), updated (\d+)\), skipped (\d+)$")


def roster_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # quotes a cell holding \r or \n
    writer.writerow(HEADER)
    writer.writerows([[row[column] for column in HEADER] for row in rows])
    return buffer.getvalue()


@settings(max_examples=100, deadline=None)
@given(rows=_ROWS)
def test_reading_accounts_for_every_row(rows: list[dict[str, str]]) -> None:
    good, problems = read_roster(roster_csv(rows), default_street="默认街道")
    filled = [row for row in rows if any(cell.strip() for cell in row.values())]
    assert len(good) + len(problems) == len(filled)
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert all(p.reason for p in problems)
    assert all(row.volunteer.openid or row.volunteer.phone for row in good)


async def _empty(db: Database) -> None:
    async with db.transaction() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in ("place_version", "alembic_version"):
                await session.execute(delete(table))


async def _count(db: Database, model: Any) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=_ROWS)
async def test_importing_takes_the_good_rows_and_reports_the_rest(
    db: Database, db_url: str, tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    await _empty(db)
    path = tmp_path / "roster.csv"
    text = roster_csv(rows)
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    assert await import_volunteers(make_config(database={"url": db_url}), path, out) == 0
    lines = out.getvalue().splitlines()
    summary = _SUMMARY.match(lines[0])
    assert summary is not None, lines[0]
    imported, created, updated, skipped = map(int, summary.groups())
    good, _ = read_roster(text, default_street="默认街道")
    filled = [row for row in rows if any(cell.strip() for cell in row.values())]
    assert imported + skipped == len(filled) and imported <= len(good)
    assert created + updated == imported and updated == 0  # a fresh database: all new
    assert sum(line.startswith("line ") for line in lines) == skipped
    assert (lines[-1].startswith("format: ")) == (skipped > 0)
    # Each imported row is one record, whole: a volunteer with their user, or a listed entry.
    volunteers, entries = await _count(db, Volunteer), await _count(db, RosterEntry)
    assert volunteers + entries == imported
    assert await _count(db, User) == volunteers
