"""Roster files as text: volunteers read and checked from CSV, requests written as JSON lines or CSV.

Pure functions: no files, no database. Line numbers are the file's own, counting the header as 1.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, TypeVar

from nlp.model import CATEGORIES
from storage.availability import WORDS
from storage.errors import InvalidInput
from storage.roster import VolunteerData

if TYPE_CHECKING:
    from storage.roster import RequestRow

T = TypeVar("T")

REQUIRED = ("name", "phone", "skills", "community", "compound", "building")
OPTIONAL = ("openid", "street", "availability", "aliases")

# Spreadsheets made by hand often carry Chinese headings; each maps to its column.
HEADER_ALIASES: dict[str, str] = {
    **{name: name for name in REQUIRED + OPTIONAL},
    "open_id": "openid",
    "微信标识": "openid",
    "姓名": "name",
    "手机": "phone",
    "手机号": "phone",
    "电话": "phone",
    "skill": "skills",
    "技能": "skills",
    "社区": "community",
    "小区": "compound",
    "楼栋": "building",
    "楼号": "building",
    "街道": "street",
    "服务时间": "availability",
    "可服务时间": "availability",
    "alias": "aliases",
    "别名": "aliases",
    "小区别名": "aliases",
}

SKILLS: dict[str, str] = {
    **{name: name for name in CATEGORIES},
    **{chinese: name for name, chinese in CATEGORIES.items()},
}

_MOBILE = re.compile(r"1[3-9]\d{9}")
# What Excel shows a long number as (1.38001E+10) and saves in a CSV so, the digits lost.
_EXPONENT = re.compile(r"\d(?:\.\d+)?e\+?\d+", re.IGNORECASE)
# Lists in a cell: | as documented, and the 、 , ; / that people type in a spreadsheet
# (full-width ，；｜ become these under NFKC).
_LIST = re.compile(r"[|,;、/]")
# 3号楼 / 3栋 / A座 are all building "3" or "A", as the message parser reads them.
_BUILDING = re.compile(r"([0-9A-Za-z]+)\s*(?:号楼|号|栋|幢|座|楼)")
_LIMITS = {"openid": 128, "name": 64, "street": 64, "community": 64, "compound": 64, "building": 16}


def format_hint() -> str:
    """How a roster CSV is written: shown after the rows that were skipped."""
    skills = " ".join(f"{name}/{chinese}" for name, chinese in CATEGORIES.items())
    slots = " ".join(sorted(WORDS, key=lambda word: (word.isascii(), word)))
    return (
        f"format: a header row naming the columns {','.join(REQUIRED)} "
        f"(optional: {','.join(OPTIONAL)}); openid may be empty, then phone is needed "
        "(an 11-digit mobile number) to bind the volunteer when they sign up in chat; "
        f"skills and availability take several values separated by | (or 、); skills: {skills}; "
        f"availability: {slots} (empty: anytime); aliases: other names of the compound, "
        "separated by |"
    )


_XLSX = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # zip (xlsx) and OLE (xls) signatures


@dataclass(frozen=True)
class RosterRow:
    """A valid data row: the volunteer and the place they live."""

    line: int
    volunteer: VolunteerData
    street: str
    community: str
    compound: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """Why the row on a line was skipped."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else GBK as Excel in China saves it."""
    if data.startswith(_XLSX):
        raise InvalidInput("this is an Excel workbook, not CSV: save it as CSV first")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" (UTF-16, tab-separated); read_roster takes the tabs.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidInput("not readable as UTF-16 text") from None
    if b"\x00" in data:
        raise InvalidInput("not a CSV text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is GBK's superset, so it also reads the few characters GBK lacks.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput("not UTF-8 or GBK text") from None


def read_roster(text: str, *, default_street: str) -> tuple[list[RosterRow], list[Problem]]:
    """Every data row of a roster CSV, valid ones as RosterRows and the rest as Problems."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput("the file is empty")
        columns = _columns(header)
        rows: list[RosterRow] = []
        problems: list[Problem] = []
        first_line: dict[tuple[str, str], int] = {}
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                parsed = _row(line, cells, columns, default_street, first_line)
                if isinstance(parsed, Problem):
                    problems.append(parsed)
                else:
                    rows.append(parsed)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"not readable as CSV at line {reader.line_num}: {exc}") from None
    return rows, problems


def _delimiter(text: str) -> str:
    """Comma, else the tab or semicolon of a header saved by Excel as text or in a European
    locale: a header row holds no commas of its own."""
    first = text.lstrip("\r\n").partition("\n")[0]
    if "," not in first:
        for other in ("\t", ";"):
            if other in first:
                return other
    return ","


def _columns(header: Sequence[str]) -> list[str | None]:
    names = [cell.strip().lower() for cell in header]
    known = [HEADER_ALIASES.get(name) for name in names]
    expected = ",".join(REQUIRED)
    if not any(known):
        raise InvalidInput(f"no header row: the first line must name the columns {expected}")
    unknown = [name for name, column in zip(names, known, strict=True) if name and not column]
    if unknown:
        raise InvalidInput(f'unknown column "{unknown[0]}" in the header (expected {expected})')
    present = [column for column in known if column]
    repeated = sorted({column for column in present if present.count(column) > 1})
    if repeated:
        raise InvalidInput(f'column "{repeated[0]}" appears twice in the header')
    missing = [column for column in REQUIRED if column not in present]
    if missing:
        raise InvalidInput(f"the header lacks {', '.join(missing)} (expected {expected})")
    return known


def _row(
    line: int,
    cells: list[str],
    columns: list[str | None],
    default_street: str,
    first_line: dict[tuple[str, str], int],
) -> RosterRow | Problem:
    if len(cells) != len(columns):
        return Problem(line, f"expected {len(columns)} columns, found {len(cells)}")
    value = {col: cell.strip() for col, cell in zip(columns, cells, strict=True) if col}
    problems: list[str] = []
    row = _valid_row(line, value, default_street, first_line, problems)
    return Problem(line, "; ".join(problems)) if problems or row is None else row


def _valid_row(
    line: int,
    value: dict[str, str],
    default_street: str,
    first_line: dict[tuple[str, str], int],
    problems: list[str],
) -> RosterRow | None:
    """The row, when `problems` stays empty; every problem of the row is added to it."""

    def checked(read: Callable[[str], T], cell: str, default: T) -> T:
        try:
            return read(cell)
        except InvalidInput as exc:
            problems.append(str(exc))
            return default

    openid = value.get("openid", "")
    for column in ("name", "community", "compound"):
        if not value[column]:
            problems.append(f"missing {column}")
    malformed: str | None = ""  # not None: a malformed phone is not also a missing one
    phone = checked(parse_phone, value["phone"], malformed)
    if not openid and phone is None:
        problems.append("missing phone (a volunteer without openid is bound by phone)")
    for column, key in (("openid", openid), ("phone", phone)):
        seen = first_line.setdefault((column, key), line) if key else line
        if seen != line:
            problems.append(f"duplicate {column}, first on line {seen}")
    street = value.get("street") or default_street
    building = parse_building(value["building"])
    sized = {**value, "openid": openid, "street": street, "building": building or ""}
    problems += [
        f"{column} longer than {limit} characters"
        for column, limit in _LIMITS.items()
        if len(sized[column]) > limit
    ]
    none: tuple[str, ...] = ()
    skills = checked(lambda cell: parse_names(cell, SKILLS, "skill"), value["skills"], none)
    slots = checked(parse_availability, value.get("availability", ""), none)
    aliases = checked(parse_aliases, value.get("aliases", ""), none)
    if problems:
        return None
    volunteer = VolunteerData(
        openid=openid or None,
        name=value["name"],
        phone=phone,
        skills=skills,
        building=building,
        availability=slots or ("anytime",),
    )
    return RosterRow(line, volunteer, street, value["community"], value["compound"], aliases)


def parse_phone(cell: str) -> str | None:
    """A mainland mobile number with spaces and dashes removed; None when the cell is empty."""
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", cell))
    if not digits:
        return None
    if len(digits) == 14 and digits.startswith("+86"):
        digits = digits[3:]
    if _EXPONENT.fullmatch(digits):
        raise InvalidInput(
            "phone saved by Excel as a rounded number like 1.38E+10: format the phone column "
            "as text (文本) and type the numbers again"
        )
    if not _MOBILE.fullmatch(digits):
        # The cell is not echoed: it may be most of somebody's number.
        raise InvalidInput("malformed phone (a mobile number is 11 digits starting 13-19)")
    return digits


def parse_building(cell: str) -> str | None:
    """The building's name as the parser writes it (3号楼 → 3); None when the cell is empty."""
    name = unicodedata.normalize("NFKC", cell).strip()
    match = _BUILDING.fullmatch(name)
    return (match[1] if match else name) or None


def parse_availability(cell: str) -> tuple[str, ...]:
    """When a volunteer is free ("周末|晚上"), as the slots routing matches against."""
    slots: list[str] = []
    for part in _LIST.split(unicodedata.normalize("NFKC", cell)):
        word = part.strip()
        if not word:
            continue
        named = WORDS.get(word.lower())
        if named is None:
            raise InvalidInput(f'unknown availability "{word}"')
        slots += [slot for slot in named if slot not in slots]
    return tuple(slots)


def parse_names(cell: str, table: dict[str, str], what: str) -> tuple[str, ...]:
    """Names separated by "|" (English, any case, or Chinese) as their English names."""
    found: list[str] = []
    unknown: list[str] = []
    for part in _LIST.split(unicodedata.normalize("NFKC", cell)):
        word = part.strip()
        if not word:
            continue
        name = table.get(word.lower())
        if name is None:
            unknown.append(f'"{word}"')
        elif name not in found:
            found.append(name)
    if unknown:
        raise InvalidInput(f"unknown {what} {', '.join(unknown)}")
    return tuple(found)


def parse_aliases(cell: str) -> tuple[str, ...]:
    """Other names of the compound, separated by "|" (阳光小区|阳光)."""
    names = [part.strip() for part in _LIST.split(unicodedata.normalize("NFKC", cell))]
    too_long = [name for name in names if len(name) > _LIMITS["compound"]]
    if too_long:
        raise InvalidInput(f"alias longer than {_LIMITS['compound']} characters")
    return tuple(dict.fromkeys(name for name in names if name))


# --- export -----------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "number",
    "status",
    "category",
    "urgency",
    "resident",
    "volunteer",
    "beneficiary",
    "compound",
    "building",
    "when",
    "score",
    "created_at",
    "accepted_at",
    "done_at",
    "closed_at",
    "text",
)
FORMATS = ("jsonl", "csv")
# A cell starting like a formula runs as one when the CSV is opened in a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_record(row: RequestRow, tz: tzinfo) -> dict[str, str | int | None]:
    """The row's export columns, times as ISO 8601 with the local offset."""
    when: str | None = None
    if row.when_at is not None:
        local = row.when_at.astimezone(tz)
        when = _iso(local) if row.when_has_time else local.date().isoformat()
    return {
        "number": row.number,
        "status": row.status,
        "category": row.category,
        "urgency": row.urgency,
        "resident": row.resident,
        "volunteer": row.volunteer,
        "beneficiary": row.beneficiary,
        "compound": row.compound,
        "building": row.building,
        "when": when,
        "score": row.score,
        "created_at": _iso(row.created_at.astimezone(tz)),
        "accepted_at": _iso(row.accepted_at.astimezone(tz)) if row.accepted_at else None,
        "done_at": _iso(row.done_at.astimezone(tz)) if row.done_at else None,
        "closed_at": _iso(row.closed_at.astimezone(tz)) if row.closed_at else None,
        "text": row.text,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def export_header(fmt: str) -> str:
    """What goes before the first row: the CSV header line, or nothing for JSON lines."""
    return _csv_line(list(EXPORT_COLUMNS)) if _format(fmt) == "csv" else ""


def export_line(row: RequestRow, *, fmt: str, tz: tzinfo) -> str:
    """One request as a line of JSON or CSV, ending in a newline."""
    record = export_record(row, tz)
    if _format(fmt) == "jsonl":
        return json.dumps(record, ensure_ascii=False) + "\n"
    return _csv_line([safe_cell(record[name]) for name in EXPORT_COLUMNS])


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f'unknown format "{fmt}" (use {" or ".join(FORMATS)})')
    return fmt


def safe_cell(value: str | int | None) -> str:
    """A CSV cell's text, quoted so a spreadsheet never runs it as a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return str(value)


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()
