"""The `where` slot: building, unit and room, and what must never be read as one."""

from __future__ import annotations

import random

import pytest

from nlp import Where
from nlp.where import MASK, Compounds

ADDRESSES = [
    ("住3号楼 帮我买点菜", Where("3", None, None)),
    ("3栋 帮我买点菜", Where("3", None, None)),
    ("3幢 帮我买点菜", Where("3", None, None)),
    ("16座 帮我买点菜", Where("16", None, None)),
    ("二十三号楼 帮我买点菜", Where("23", None, None)),
    ("十棟 幫我買點菜", Where("10", None, None)),
    ("5栋2单元 帮我买点菜", Where("5", "2", None)),
    ("5栋2单元501 帮我买点菜", Where("5", "2", "501")),
    ("12号楼1单元802 快来人", Where("12", "1", "802")),
    ("501室 帮我买点菜", Where(None, None, "501")),
    ("送到501房", Where(None, None, "501")),
    ("三栋二单元五零一 帮我买点菜", Where("3", "2", "501")),
    ("二栋一单元六零二", Where("2", "1", "602")),
    ("二十栋三单元七零二", Where("20", "3", "702")),
    ("6栋302 帮我买点菜", Where("6", None, "302")),
    ("12幢601 帮我买点菜", Where("12", None, "601")),
    ("3单元402 水管裂了", Where(None, "3", "402")),
    ("隔壁502门缝冒烟", Where(None, None, "502")),
    ("我住502 帮我买点菜", Where(None, None, "502")),
    ("我在2单元 房号1302 热水器坏了", Where(None, "2", "1302")),
    ("我住三栋 十二楼 1203 水管漏水", Where("3", None, "1203")),
    ("５栋２单元１１０１ 门锁坏了", Where("5", "2", "1101")),
    ("我住阳光花园3号楼", Where("3", None, None)),
]

NOT_ADDRESSES = [
    "我住十八楼 电梯坏了",  # N楼 without 号 is a floor
    "电梯卡在8楼和9楼中间",
    "帮我去驿站取个快递 取件码8-3-1205",
    "120打了还没到",
    "物业电话0592-5561234打不通",
    "孩子数学第一单元不会 谁能教教",
    "我电话13906021548",
    "帮我买两斤排骨",
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_where(parse, text: str, expected: Where) -> None:
    assert parse(text).where == expected


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_not_an_address(parse, text: str) -> None:
    assert parse(text).where is None


def test_floor_after_building_is_not_a_room(parse) -> None:
    assert parse("帮忙把这箱水搬到5栋三楼").where == Where("5", None, None)


def test_pickup_code_next_to_address_is_not_a_room(parse) -> None:
    where = parse("取件码 3-1-2208 麻烦帮我拿下快递 送到7栋").where
    assert where == Where("7", None, None)


def test_where_in_contract_form(parse) -> None:
    assert parse("12号楼1单元802").to_contract()["where"] == {
        "building": "12",
        "unit": "1",
        "room": "802",
    }


def _masked_by_scanning(pairs: list[tuple[str, str]], text: str) -> tuple[str | None, str]:
    """Compounds.find as it was written before it became one regex: a scan per character."""
    aliases: dict[str, str] = {}
    for alias, name in pairs:
        aliases.setdefault(alias, name)
    found, i, out = None, 0, text
    ordered = sorted(aliases, key=len, reverse=True)
    while i < len(out):
        for alias in (a for a in ordered if a[0] == out[i]):
            if out.startswith(alias, i):
                found = found or aliases[alias]
                out = out[:i] + MASK * len(alias) + out[i + len(alias) :]
                i += len(alias) - 1
                break
        i += 1
    return found, out


def test_compounds_mask_longest_alias_first_as_a_scan_would() -> None:
    pairs = [("幸福里小区", "幸福里小区"), ("幸福里", "幸福里小区"), ("幸福", "幸福苑")]
    pairs += [("阳光花园", "阳光花园"), ("花园", "花园小区"), ("园", "一园")]
    compounds = Compounds(pairs)
    rnd = random.Random(7)
    pieces = ["幸福里小区", "幸福里", "幸福", "阳光花园", "花园", "园", "小区", "3栋", "帮我", " "]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8))) for _ in range(500)]
    for text in texts:
        assert compounds.find(text) == _masked_by_scanning(pairs, text), text
    assert Compounds().find("幸福里") == (None, "幸福里")
