"""The roster: volunteer CSV import (checked row by row) and request export, on both backends."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bot.roster.commands import export_requests, import_volunteers
from bot.roster.formats import (
    EXPORT_COLUMNS,
    Problem,
    decode,
    export_header,
    format_hint,
    read_roster,
)
from storage import roster
from storage.db import Database, open_database
from storage.errors import InvalidInput
from storage.models import (
    Building,
    Community,
    Compound,
    CompoundAlias,
    HelpRequest,
    RosterEntry,
    Status,
    Street,
    User,
    Volunteer,
)
from tests.conftest import make_config

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "roster"
HEADER = "openid,name,phone,skills,community,compound,building"
GOOD = "o-good,王阿姨,13800138000,errand,幸福社区,阳光花园,3"


def read(text: str, street: str = "默认街道") -> tuple[list[roster.VolunteerData], list[Problem]]:
    rows, problems = read_roster(text, default_street=street)
    return [row.volunteer for row in rows], problems


# --- reading and checking the file ------------------------------------------------------

BAD_ROWS = [
    (",张三,,errand,幸福社区,阳光花园,3", "missing phone (a volunteer without openid is bound"),
    (",张三,13800138000,errand,幸福社区,阳光花园,3", "duplicate phone, first on line 2"),
    ("o-x,,13800138000,errand,幸福社区,阳光花园,3", "missing name"),
    ("o-x,张三,,修飞机,幸福社区,阳光花园,3", 'unknown skill "修飞机"'),
    ("o-x,张三,,errand|cooking,幸福社区,阳光花园,3", 'unknown skill "cooking"'),
    ("o-x,张三,1380013800,errand,幸福社区,阳光花园,3", "malformed phone"),
    ("o-x,张三,12800138000,errand,幸福社区,阳光花园,3", "malformed phone"),
    ("o-x,张三,138001380001,errand,幸福社区,阳光花园,3", "malformed phone"),
    ("o-x,张三,0571-8888888,errand,幸福社区,阳光花园,3", "malformed phone"),
    ("o-x,张三,,errand,幸福社区,,3", "missing compound"),
    ("o-x,张三,,errand,,阳光花园,3", "missing community"),
    ("o-good,王阿姨二号,,errand,幸福社区,阳光花园,3", "duplicate openid, first on line 2"),
    ("o-x,张三,,errand,幸福社区,阳光花园", "expected 7 columns, found 6"),
    ("o-x,张三,,errand,幸福社区,阳光花园,3,多余", "expected 7 columns, found 8"),
    ("o-x," + "名" * 65 + ",,errand,幸福社区,阳光花园,3", "name longer than 64 characters"),
    ("o-x,张三,,errand,幸福社区,阳光花园,12345678901234567", "building longer than 16"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_a_bad_row_is_reported_with_its_line_and_skipped(row: str, reason: str) -> None:
    text = f"{HEADER}\n{GOOD}\n\n{row}\no-after,李四,,repair,幸福社区,阳光花园,5\n"
    volunteers, problems = read(text)
    assert [v.openid for v in volunteers] == ["o-good", "o-after"]
    assert len(problems) == 1
    assert problems[0].line == 4  # the blank line 3 still counts
    assert problems[0].reason.startswith(reason)
    assert str(problems[0]).startswith(f"line 4: {reason}")


def test_every_problem_of_a_row_is_listed_at_once() -> None:
    _, problems = read(f"{HEADER},availability\no-x,,1380013800,修飞机|cooking,幸福社区,,3,半夜\n")
    assert problems == [
        Problem(
            2,
            "missing name; missing compound; "
            "malformed phone (a mobile number is 11 digits starting 13-19); "
            'unknown skill "修飞机", "cooking"; unknown availability "半夜"',
        )
    ]


def test_rows_without_openid_or_its_column_need_a_phone() -> None:
    header = "name,phone,skills,community,compound,building,aliases"
    volunteers, problems = read_roster(
        f"{header}\n王阿姨,138 0013 8000,助老,幸福社区,阳光花园,3,阳光小区| 阳光 \n"
        "李四,,repair,幸福社区,阳光花园,5,\n",
        default_street="默认街道",
    )
    assert [(row.volunteer.openid, row.volunteer.phone, row.aliases) for row in volunteers] == [
        (None, "13800138000", ("阳光小区", "阳光"))
    ]
    assert [p.line for p in problems] == [3]
    assert problems[0].reason.startswith("missing phone")


def test_the_format_hint_names_columns_skills_separator_and_availability_words() -> None:
    hint = format_hint()
    for part in ("name,phone,skills,community,compound,building", "openid", "aliases", "|"):
        assert part in hint
    for word in ("elderly/助老", "repair/维修", "周末", "weekend", "随时", "晚上"):
        assert word in hint


def test_a_malformed_phone_is_not_echoed() -> None:
    _, problems = read(f"{HEADER}\no-x,张三,1380013800,errand,幸福社区,阳光花园,3\n")
    assert "1380013800" not in problems[0].reason


@pytest.mark.parametrize(
    ("cell", "phone"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese IME
        ("", None),
        ("  ", None),
    ],
)
def test_phones_lose_spaces_and_dashes(cell: str, phone: str | None) -> None:
    volunteers, problems = read(f"{HEADER}\no-x,张三,{cell},errand,幸福社区,阳光花园,3\n")
    assert problems == []
    assert volunteers[0].phone == phone


@pytest.mark.parametrize(
    ("cell", "skills"),
    [
        ("medical", ("medical",)),
        ("助医", ("medical",)),
        ("助老|跑腿", ("elderly", "errand")),
        ("Repair | SAFETY", ("repair", "safety")),
        ("维修|repair|维修", ("repair",)),
        ("errand|", ("errand",)),
        ("助残｜助幼", ("disability", "childcare")),  # a full-width bar
        ("助教|助困|调解|其他", ("tutoring", "hardship", "mediation", "other")),
        ("", ()),
    ],
)
def test_skills_are_english_or_chinese_category_names(cell: str, skills: tuple[str, ...]) -> None:
    volunteers, problems = read(f"{HEADER}\no-x,张三,,{cell},幸福社区,阳光花园,3\n")
    assert problems == []
    assert volunteers[0].skills == skills


@pytest.mark.parametrize(
    ("cell", "building"),
    [("3", "3"), ("3号楼", "3"), ("12栋", "12"), ("5幢", "5"), ("A座", "A"), ("", None)],
)
def test_buildings_are_named_as_the_parser_names_them(cell: str, building: str | None) -> None:
    volunteers, _ = read(f"{HEADER}\no-x,张三,,errand,幸福社区,阳光花园,{cell}\n")
    assert volunteers[0].building == building


@pytest.mark.parametrize(
    "header",
    [
        "building,compound,community,skills,phone,name,openid",
        " OpenID , Name ,PHONE,Skills,Community,Compound,Building",
        "openid,姓名,手机,技能,社区,小区,楼栋",
        "openid,name,phone,skills,community,compound,building,,",
    ],
)
def test_header_order_case_and_chinese_headings(header: str) -> None:
    names = [cell.strip().lower() for cell in header.split(",")]
    value = {
        "openid": "o-x",
        "name": "张三",
        "phone": "13800138000",
        "skills": "errand",
        "community": "幸福社区",
        "compound": "阳光花园",
        "building": "3",
    }
    aliases = {"姓名": "name", "手机": "phone", "技能": "skills", "社区": "community"}
    aliases |= {"小区": "compound", "楼栋": "building", "": ""}
    row = ",".join(value.get(aliases.get(name, name), "") for name in names)
    rows, problems = read_roster(f"{header}\n{row}\n", default_street="默认街道")
    assert problems == []
    assert rows[0].volunteer == roster.VolunteerData(
        openid="o-x", name="张三", phone="13800138000", skills=("errand",), building="3"
    )
    assert (rows[0].street, rows[0].community, rows[0].compound) == (
        "默认街道",
        "幸福社区",
        "阳光花园",
    )


def test_the_street_column_is_optional() -> None:
    text = f"street,{HEADER}\n东湖街道,{GOOD}\n,o-2,李四,,repair,幸福社区,阳光花园,5\n"
    rows, problems = read_roster(text, default_street="默认街道")
    assert problems == []
    assert [row.street for row in rows] == ["东湖街道", "默认街道"]
    rows, _ = read_roster(f"{HEADER}\n{GOOD}\n", default_street="配置街道")
    assert rows[0].street == "配置街道"


@pytest.mark.parametrize(
    ("cell", "slots"),
    [
        ("", ("anytime",)),
        ("anytime", ("anytime",)),
        ("weekend|晚上", ("weekend_day", "weekend_evening", "weekday_evening")),
        ("工作日|Morning|下午", ("weekday_day", "weekday_evening", "weekend_day")),
        ("周末白天", ("weekend_day",)),
    ],
)
def test_the_availability_column_is_optional(cell: str, slots: tuple[str, ...]) -> None:
    volunteers, problems = read(f"{HEADER},availability\n{GOOD},{cell}\n")
    assert problems == []
    assert volunteers[0].availability == slots
    volunteers, _ = read(f"{HEADER}\n{GOOD}\n")
    assert volunteers[0].availability == ("anytime",)


def test_an_unknown_availability_is_a_bad_row() -> None:
    _, problems = read(f"{HEADER},availability\n{GOOD},半夜\n")
    assert problems == [Problem(2, 'unknown availability "半夜"')]


def test_line_numbers_count_physical_lines_across_quoted_newlines() -> None:
    text = (
        f"{HEADER}\r\n"
        'o-1,"王\r\n阿姨",,errand,幸福社区,阳光花园,3\r\n'
        ",,,,,,\r\n"  # a row Excel leaves empty is no row at all
        "o-2,李四,,修飞机,幸福社区,阳光花园,3\r\n"
    )
    volunteers, problems = read(text)
    assert [v.name for v in volunteers] == ["王\r\n阿姨"]
    assert problems == [Problem(5, 'unknown skill "修飞机"')]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        ("\n\n", "no header row"),
        (f"{GOOD}\n", "no header row"),
        ("openid,name,phone,skills,community,compound\n", "the header lacks building"),
        ("openid,name,skills\n", "the header lacks phone, community, compound, building"),
        (f"{HEADER},remark\n", 'unknown column "remark"'),
        (f"{HEADER},楼栋\n", 'column "building" appears twice'),
    ],
)
def test_a_file_without_a_usable_header_is_one_error(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{reason}"):
        read(text)


def test_a_field_too_large_for_csv_is_one_error_naming_its_line() -> None:
    huge = "x" * 200_000
    with pytest.raises(InvalidInput, match=r"^not readable as CSV at line 3: field larger"):
        read(f'{HEADER}\n{GOOD}\no-x,"{huge}",,errand,幸福社区,阳光花园,3\n')


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "this is an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "this is an Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV text file"),
        (b"openid,name\n\xff\xfe\xfd\n", "not UTF-8 or GBK text"),
    ],
)
def test_bytes_that_are_not_csv_text_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{reason}"):
        decode(data)


@pytest.mark.parametrize(
    "data",
    [
        f"{HEADER}\n{GOOD}\n".encode(),
        b"\xef\xbb\xbf" + f"{HEADER}\n{GOOD}\n".encode(),
        f"{HEADER}\r\n{GOOD}\r\n".encode("gbk"),
    ],
    ids=["utf8", "utf8-bom", "gbk"],
)
def test_utf8_with_or_without_bom_and_gbk_read_the_same(data: bytes) -> None:
    volunteers, problems = read(decode(data))
    assert problems == []
    assert volunteers[0].name == "王阿姨"
    assert volunteers[0].openid == "o-good"  # a BOM never sticks to the first column


def test_the_fixture_files_read_as_expected() -> None:
    rows, problems = read_roster(
        decode((FIXTURES / "volunteers.csv").read_bytes()), default_street="默认街道"
    )
    assert [row.volunteer.openid for row in rows] == ["oV-001", "oV-002", "oV-003", None, "oV-009"]
    assert [str(p) for p in problems] == [
        "line 6: malformed phone (a mobile number is 11 digits starting 13-19)",
        'line 7: unknown skill "修飞机"',
        "line 8: missing compound",
        "line 9: duplicate openid, first on line 3",
        "line 10: expected 7 columns, found 6",
    ]
    rows, problems = read_roster(
        decode((FIXTURES / "volunteers_excel_gbk.csv").read_bytes()), default_street="默认街道"
    )
    assert problems == []
    assert [(row.street, row.volunteer.name, row.volunteer.skills) for row in rows] == [
        ("东湖街道", "陈大爷", ("elderly", "errand")),
        ("西湖街道", "林阿姨", ("medical",)),
        ("默认街道", "黄小哥", ("repair",)),
    ]


# --- importing ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def places(db: Database) -> set[tuple[str, str, str]]:
    async with db.sessions() as session:
        query = (
            select(col(Street.name), col(Community.name), col(Compound.name))
            .join(Community, col(Community.street_id) == Street.id)
            .join(Compound, col(Compound.community_id) == Community.id)
        )
        return {tuple(row) for row in await session.execute(query)}


async def volunteers_by_openid(db: Database) -> dict[str, tuple[Volunteer, User]]:
    async with db.sessions() as session:
        query = select(Volunteer, User).join(User, col(User.id) == Volunteer.user_id)
        return {user.openid: (v, user) for v, user in await session.execute(query)}


async def test_import_creates_places_and_active_volunteers(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    config = make_config(database={"url": db_url}, routing={"task_limit": 4})
    out = io.StringIO()
    code = await import_volunteers(config, FIXTURES / "volunteers.csv", out)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[:-1] == [
        "imported 5 (created 5, updated 0), skipped 5",
        "1 without openid wait for their WeChat account: each is bound when that person says "
        "我想当志愿者 (or 绑定) in chat with the same phone and a worker approves (同意绑定 #N)",
        "line 6: malformed phone (a mobile number is 11 digits starting 13-19)",
        'line 7: unknown skill "修飞机"',
        "line 8: missing compound",
        "line 9: duplicate openid, first on line 3",
        "line 10: expected 7 columns, found 6",
    ]
    assert lines[-1] == format_hint()
    assert await places(db) == {
        ("默认街道", "幸福社区", "阳光花园"),
        ("默认街道", "和平社区", "幸福里"),
    }
    found = await volunteers_by_openid(db)
    assert set(found) == {"oV-001", "oV-002", "oV-003", "oV-009"}
    wang, wang_user = found["oV-001"]
    assert (wang.name, wang.phone, wang.skills, wang.building) == (
        "王阿姨",
        "13800138000",
        "elderly|errand",
        "3",
    )
    assert (wang.availability, wang.task_limit, wang.active, wang.paused) == (
        "anytime",
        4,
        True,
        False,
    )
    assert (wang_user.name, wang_user.phone, wang_user.building) == ("王阿姨", "13800138000", "3")
    assert wang_user.compound_id == wang.compound_id is not None
    assert found["oV-002"][0].skills == "repair|safety"
    assert found["oV-002"][0].building == "5"
    assert found["oV-003"][0].phone is None
    async with db.sessions() as session:
        buildings = set((await session.execute(select(col(Building.name)))).scalars())
    assert buildings == {"1", "2", "3", "5", "7"}


async def test_import_with_streets_and_availability_from_a_gbk_file(
    db: Database, db_url: str
) -> None:
    config = make_config(database={"url": db_url}, org={"street": "配置街道"})
    out = io.StringIO()
    assert await import_volunteers(config, FIXTURES / "volunteers_excel_gbk.csv", out) == 0
    assert out.getvalue() == "imported 3 (created 3, updated 0), skipped 0\n"
    # The same community name under two streets is two communities.
    assert await places(db) == {
        ("东湖街道", "幸福社区", "阳光花园"),
        ("西湖街道", "新村社区", "新村小区"),
        ("配置街道", "幸福社区", "阳光花园"),
    }
    found = await volunteers_by_openid(db)
    assert found["oG-001"][0].availability == "weekday_day|weekend_day|weekend_evening"
    assert found["oG-002"][0].availability == "anytime"
    assert found["oG-003"][0].availability == "weekday_evening|weekend_evening"
    assert found["oG-003"][0].phone == "15000150000"


async def test_reimport_updates_without_duplicating(
    db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roster, "BATCH", 2)  # the second file spans two batches
    config = make_config(database={"url": db_url})
    first = write(
        tmp_path,
        f"{HEADER}\n"
        "o-1,王阿姨,13800138000,errand,幸福社区,阳光花园,3\n"
        "o-2,李师傅,,repair,幸福社区,阳光花园,5\n",
        "first.csv",
    )
    assert await import_volunteers(config, first, io.StringIO()) == 0
    li = (await volunteers_by_openid(db))["o-2"][0]
    async with db.transaction() as session:
        # Between imports: a volunteer paused themselves and an admin raised a limit.
        volunteer = await session.get(Volunteer, li.id)
        assert volunteer is not None
        volunteer.paused = True
        volunteer.task_limit = 5
    second = write(
        tmp_path,
        f"{HEADER}\n"
        "o-1,王秀英,,errand|助医,幸福社区,阳光花园,8号楼\n"
        "o-2,李师傅,,repair,幸福社区,阳光花园,5\n"
        "o-3,新人,,safety,幸福社区,阳光花园,2\n",
        "second.csv",
    )
    out = io.StringIO()
    assert await import_volunteers(config, second, out) == 0
    assert out.getvalue() == "imported 3 (created 1, updated 2), skipped 0\n"
    found = await volunteers_by_openid(db)
    assert sorted(found) == ["o-1", "o-2", "o-3"]
    wang, wang_user = found["o-1"]
    assert (wang.name, wang.phone, wang.skills, wang.building) == (
        "王秀英",
        None,
        "errand|medical",
        "8",
    )
    # The user row keeps what was already known; the roster only fills blanks.
    assert (wang_user.name, wang_user.phone, wang_user.building) == ("王阿姨", "13800138000", "3")
    assert (found["o-2"][0].paused, found["o-2"][0].task_limit) == (True, 5)
    async with db.sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (User, Volunteer, Compound, Community, Street)
        ]
    assert counts == [3, 3, 1, 1, 1]


async def test_import_fills_an_existing_user_without_creating_another(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    async with db.transaction() as session:
        session.add(User(openid="o-1", name="老王自己填的"))
    config = make_config(database={"url": db_url})
    path = write(tmp_path, f"{HEADER}\no-1,王阿姨,13800138000,errand,幸福社区,阳光花园,3\n")
    assert await import_volunteers(config, path, io.StringIO()) == 0
    volunteer, user = (await volunteers_by_openid(db))["o-1"]
    assert volunteer.name == "王阿姨"
    assert (user.name, user.phone) == ("老王自己填的", "13800138000")
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def entries(db: Database) -> list[tuple[str, str, str, int | None]]:
    async with db.sessions() as session:
        found = await session.scalars(select(RosterEntry).order_by(col(RosterEntry.id)))
        return [(e.name, e.phone, e.skills, e.volunteer_id) for e in found]


async def test_a_phone_list_without_openids_merges_by_phone_and_never_doubles(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    config = make_config(database={"url": db_url})
    header = "name,phone,skills,community,compound,building"
    first = write(
        tmp_path,
        f"{header}\n王阿姨,13800138000,助老,幸福社区,阳光花园,3\n李师傅,13900139000,维修,幸福社区,阳光花园,5\n",
        "first.csv",
    )
    out = io.StringIO()
    assert await import_volunteers(config, first, out) == 0
    assert out.getvalue().startswith("imported 2 (created 2, updated 0), skipped 0\n2 without")
    assert await entries(db) == [
        ("王阿姨", "13800138000", "elderly", None),
        ("李师傅", "13900139000", "repair", None),
    ]
    assert await volunteers_by_openid(db) == {}  # nobody to offer anything to yet
    # The same people again, one now with an openid, one with a new skill, in another order.
    second = write(
        tmp_path,
        f"openid,{header}\n,李师傅,139 0013 9000,维修|安全,幸福社区,阳光花园,5\n"
        "o-wang,王秀英,13800138000,助老,幸福社区,阳光花园,3\n",
        "second.csv",
    )
    out = io.StringIO()
    assert await import_volunteers(config, second, out) == 0
    assert out.getvalue().startswith("imported 2 (created 1, updated 1), skipped 0\n")
    wang = (await volunteers_by_openid(db))["o-wang"][0]
    assert await entries(db) == [
        ("王阿姨", "13800138000", "elderly", wang.id),  # bound to the volunteer with the openid
        ("李师傅", "13900139000", "repair|safety", None),
    ]
    # Listed by phone only once more: the volunteer with that phone is updated, no entry made.
    third = write(tmp_path, f"{header}\n王秀英,13800138000,助老|跑腿,幸福社区,阳光花园,8\n")
    out = io.StringIO()
    assert await import_volunteers(config, third, out) == 0
    assert out.getvalue() == "imported 1 (created 0, updated 1), skipped 0\n"
    wang = (await volunteers_by_openid(db))["o-wang"][0]
    assert (wang.skills, wang.building) == ("elderly|errand", "8")
    async with db.sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (RosterEntry, Volunteer, User)
        ]
    assert counts == [2, 1, 1]


async def test_aliases_come_in_with_the_roster_and_never_name_two_compounds(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    config = make_config(database={"url": db_url})
    path = write(
        tmp_path,
        f"{HEADER},aliases\n"
        "o-1,王阿姨,,errand,幸福社区,阳光花园,3,阳光小区|阳光\n"
        "o-2,李四,,errand,幸福社区,幸福里,3,阳光\n"
        "o-3,赵五,,errand,幸福社区,阳光花园,5,\n",
    )
    out = io.StringIO()
    assert await import_volunteers(config, path, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        "imported 2 (created 2, updated 0), skipped 1",
        'line 3: alias "阳光" already names the compound 阳光花园',
    ]
    assert lines[2].startswith("format: ")
    async with db.sessions() as session:
        aliases = set((await session.execute(select(col(CompoundAlias.name)))).scalars())
    assert aliases == {"阳光小区", "阳光"}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        (b"", "the file is empty"),
        (b"PK\x03\x04\x14\x00", "this is an Excel workbook"),
        ("name,phone\n张三,\n".encode(), "the header lacks skills, community, compound"),
    ],
)
async def test_an_unreadable_file_is_one_error_and_touches_no_database(
    sqlite_url: str, tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "roster.csv"
    if content is not None:
        path.write_bytes(content)
    config = make_config(database={"url": sqlite_url})
    out = io.StringIO()
    with pytest.raises(InvalidInput) as caught:
        await import_volunteers(config, path, out)
    message = str(caught.value)
    assert str(path) in message and reason in message
    assert "\n" not in message
    assert out.getvalue() == ""
    assert not (tmp_path / "jinlin.db").exists()


async def test_import_brings_a_new_sqlite_database_up_to_date(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = make_config(database={"url": sqlite_url})
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n")
    assert await import_volunteers(config, path, io.StringIO()) == 0
    db = open_database(sqlite_url)
    try:
        assert set(await volunteers_by_openid(db)) == {"o-good"}
    finally:
        await db.close()


# --- exporting ---------------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def seed_requests(db: Database) -> None:
    """Requests #2, #5 and #10 (inserted out of order) by one resident, one volunteer."""
    async with db.transaction() as session:
        resident = User(openid="o-resident")
        helper = User(openid="o-helper")
        session.add_all([resident, helper])
        street = Street(name="东湖街道")
        session.add(street)
        await session.flush()
        community = Community(street_id=street.id, name="幸福社区")
        session.add(community)
        await session.flush()
        compound = Compound(community_id=community.id, name="阳光花园")
        session.add(compound)
        await session.flush()
        volunteer = Volunteer(user_id=helper.id, name="李师傅", skills="repair")
        session.add(volunteer)
        await session.flush()
        assert resident.id is not None
        session.add_all(
            [
                HelpRequest(
                    id=10,
                    resident_id=resident.id,
                    category="errand",
                    urgency="normal",
                    text="=HYPERLINK(1)",
                    status=Status.OPEN,
                    created_at=utc(2026, 11, 25, 2, 0),
                ),
                HelpRequest(
                    id=2,
                    resident_id=resident.id,
                    beneficiary="妈妈",
                    category="repair",
                    urgency="urgent",
                    text='水管漏了，"急"\n在厨房',
                    when_at=utc(2026, 11, 23, 7, 0),
                    when_has_time=True,
                    compound_id=compound.id,
                    building="3",
                    status=Status.CLOSED,
                    volunteer_id=volunteer.id,
                    score=5,
                    created_at=utc(2026, 11, 23, 1, 0),
                    accepted_at=utc(2026, 11, 23, 1, 5, 30),
                    done_at=utc(2026, 11, 23, 8, 0),
                    closed_at=utc(2026, 11, 23, 9, 0),
                ),
                HelpRequest(
                    id=5,
                    resident_id=resident.id,
                    category="elderly",
                    urgency="normal",
                    text="陪我妈聊聊天",
                    # Only a day was asked for: local midnight of 11-26 in Shanghai.
                    when_at=utc(2026, 11, 25, 16, 0),
                    status=Status.CANCELLED,
                    created_at=utc(2026, 11, 24, 16, 30),
                    closed_at=utc(2026, 11, 24, 17, 0),
                    purged_at=utc(2027, 5, 1, 0, 0),
                ),
            ]
        )


EXPECTED = [
    {
        "number": 2,
        "status": "closed",
        "category": "repair",
        "urgency": "urgent",
        "resident": "o-resident",
        "volunteer": "o-helper",
        "beneficiary": "妈妈",
        "compound": "阳光花园",
        "building": "3",
        "when": "2026-11-23T15:00:00+08:00",
        "score": 5,
        "created_at": "2026-11-23T09:00:00+08:00",
        "accepted_at": "2026-11-23T09:05:30+08:00",
        "done_at": "2026-11-23T16:00:00+08:00",
        "closed_at": "2026-11-23T17:00:00+08:00",
        "text": '水管漏了，"急"\n在厨房',
    },
    {
        "number": 5,
        "status": "cancelled",
        "category": "elderly",
        "urgency": "normal",
        "resident": "o-resident",
        "volunteer": None,
        "beneficiary": None,
        "compound": None,
        "building": None,
        "when": "2026-11-26",
        "score": None,
        "created_at": "2026-11-25T00:30:00+08:00",
        "accepted_at": None,
        "done_at": None,
        "closed_at": "2026-11-25T01:00:00+08:00",
        "text": None,
    },
    {
        "number": 10,
        "status": "open",
        "category": "errand",
        "urgency": "normal",
        "resident": "o-resident",
        "volunteer": None,
        "beneficiary": None,
        "compound": None,
        "building": None,
        "when": None,
        "score": None,
        "created_at": "2026-11-25T10:00:00+08:00",
        "accepted_at": None,
        "done_at": None,
        "closed_at": None,
        "text": "=HYPERLINK(1)",
    },
]


async def test_export_jsonl_is_one_object_per_request_in_number_order(
    db: Database, db_url: str
) -> None:
    await seed_requests(db)
    out = io.StringIO()
    assert await export_requests(make_config(database={"url": db_url}), "jsonl", out) == 0
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == EXPECTED
    assert list(json.loads(lines[0])) == list(EXPORT_COLUMNS)
    assert "水管漏了" in lines[0]  # not \\u-escaped


async def test_export_csv_has_a_header_and_empty_cells_for_null(db: Database, db_url: str) -> None:
    await seed_requests(db)
    out = io.StringIO()
    assert await export_requests(make_config(database={"url": db_url}), "csv", out) == 0
    table = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert table[0] == list(EXPORT_COLUMNS)
    expected = [["" if value is None else str(value) for value in row.values()] for row in EXPECTED]
    # A cell that a spreadsheet would run as a formula is quoted as text.
    expected[2][EXPORT_COLUMNS.index("text")] = "'=HYPERLINK(1)"
    assert table[1:] == expected


async def test_export_of_no_requests(db: Database, db_url: str) -> None:
    config = make_config(database={"url": db_url})
    out = io.StringIO()
    assert await export_requests(config, "jsonl", out) == 0
    assert out.getvalue() == ""
    assert await export_requests(config, "csv", out) == 0
    assert out.getvalue() == export_header("csv")


async def test_request_rows_are_read_page_by_page_in_order(db: Database) -> None:
    await seed_requests(db)
    async with db.transaction() as session:
        resident = await session.scalar(
            select(col(User.id)).where(col(User.openid) == "o-resident")
        )
        assert resident is not None
        session.add_all(
            HelpRequest(id=n, resident_id=resident, category="other", urgency="normal")
            for n in (3, 4, 7)
        )
    numbers = [row.number async for row in roster.request_rows(db=db, page_size=2)]
    assert numbers == [2, 3, 4, 5, 7, 10]
    async with db.sessions() as session:
        page = await roster.request_page(session=session, after=4, limit=2)
    assert [row.number for row in page] == [5, 7]


async def test_an_unknown_export_format_is_refused_before_opening_the_database(
    sqlite_url: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match='unknown format "xml"'):
        await export_requests(make_config(database={"url": sqlite_url}), "xml", io.StringIO())
    assert not (tmp_path / "jinlin.db").exists()


# --- what a roster from a real spreadsheet looks like (third walk-through) ----------------


@pytest.mark.parametrize(
    ("skills", "availability"),
    [("助老、跑腿", "周末、晚上"), ("助老，跑腿", "周末；晚上"), ('"助老,跑腿"', "周末/晚上")],
)
def test_lists_in_a_cell_may_be_separated_as_people_type_them(
    skills: str, availability: str
) -> None:
    # Regression: 助老、跑腿 (how a list is written in Chinese) was 'unknown skill "助老、跑腿"'.
    volunteers, problems = read(
        f"{HEADER},availability\no-x,张三,,{skills},幸福社区,阳光花园,3,{availability}\n"
    )
    assert problems == []
    assert volunteers[0].skills == ("elderly", "errand")
    assert volunteers[0].availability == ("weekend_day", "weekend_evening", "weekday_evening")


def test_a_phone_excel_rounded_says_how_to_keep_the_digits() -> None:
    # Regression: 1.38001E+10, what Excel saves for a number it shows rounded, was only
    # "malformed phone", leaving the worker to guess why every row failed.
    _, problems = read(f"{HEADER}\n,张三,1.38001E+10,errand,幸福社区,阳光花园,3\n")
    assert len(problems) == 1 and "format the phone column as text" in problems[0].reason


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("separator", ["\t", ";"])
def test_tab_or_semicolon_separated_files_are_read(encoding: str, separator: str) -> None:
    # Regression: Excel's "Unicode 文本" (UTF-16, tabs) was "not a CSV text file" and a
    # semicolon file "no header row", though the first line named every column.
    lines = [
        "姓名,手机,技能,社区,小区,楼栋",
        "王阿姨,13800138000,助老|跑腿,幸福社区,阳光花园,3号楼",
    ]
    data = "\r\n".join(line.replace(",", separator) for line in lines).encode(encoding)
    volunteers, problems = read(decode(data))
    assert problems == [] and [v.phone for v in volunteers] == ["13800138000"]
