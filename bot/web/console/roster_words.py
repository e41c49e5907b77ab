"""The roster importer's reasons (English, for operators at the command line) in the Chinese
a community worker reads on the console; an unforeseen reason is shown as it is."""

from __future__ import annotations

import re

from bot.roster.formats import REQUIRED
from nlp import CATEGORIES
from storage.availability import WORDS

COLUMNS = {
    "openid": "微信标识",
    "name": "姓名",
    "phone": "手机",
    "skills": "技能",
    "community": "社区",
    "compound": "小区",
    "building": "楼栋",
    "street": "街道",
    "availability": "服务时间",
    "aliases": "小区别名",
}


# What a worker may write instead, so that a refused cell says how to put it right.
SKILL_NAMES = "、".join(CATEGORIES.values())
SLOT_NAMES = "、".join(word for word in WORDS if not word.isascii())


def _column(match: re.Match[str]) -> str:
    return COLUMNS.get(match["c"], match["c"])


def _quoted(names: str) -> str:
    """'"修水管", "cooking"' as “修水管”、“cooking”."""
    return "、".join(f"“{name}”" for name in re.findall(r'"([^"]*)"', names))


REASONS: list[tuple[re.Pattern[str], str | object]] = [
    (re.compile(r"expected (\d+) columns, found (\d+)"), r"应有 \1 列，这一行有 \2 列"),
    (
        re.compile(r"duplicate (?P<c>\w+), first on line (?P<n>\d+)"),
        lambda m: f"{_column(m)}与第 {m['n']} 行重复",
    ),
    (re.compile(r"missing phone \(.*"), "缺少手机（没填微信标识的志愿者要凭手机号绑定微信）"),
    (re.compile(r"missing (?P<c>\w+)"), lambda m: f"缺少{_column(m)}"),
    (
        re.compile(r"phone belongs to several volunteers.*"),
        "这个手机号属于几位志愿者：请填上微信标识",
    ),
    (re.compile(r"alias longer than (\d+) characters"), r"小区别名超过 \1 个字"),
    (re.compile(r'alias "(.*)" already names the compound (.*)'), r"别名“\1”已经是小区“\2”的名字"),
    (
        re.compile(r"(?P<c>\w+) longer than (?P<n>\d+) characters"),
        lambda m: f"{_column(m)}超过 {m['n']} 个字",
    ),
    (re.compile(r"malformed phone.*"), "手机号格式不对（应为 13-19 开头的 11 位数字）"),
    (
        re.compile(r'unknown availability "(.*)"'),
        lambda m: f"不认识的服务时间“{m[1]}”（可填：{SLOT_NAMES}，用“|”分隔）",
    ),
    (
        re.compile(r"unknown skill (.*)"),
        lambda m: f"不认识的技能{_quoted(m[1])}（可填：{SKILL_NAMES}，用“|”分隔）",
    ),
    (re.compile(r"this is an Excel workbook.*"), "这是 Excel 文件：请先“另存为 CSV”再导入"),
    (re.compile(r"not a CSV text file"), "这不是 CSV 文本文件"),
    (re.compile(r"not UTF-8 or GBK text"), "文件编码无法识别（应为 UTF-8 或 GBK）"),
    (re.compile(r"the file is empty"), "文件是空的"),
    (re.compile(r"not readable as CSV at line (\d+).*"), r"第 \1 行无法按 CSV 读取"),
    (re.compile(r"no header row.*"), "第一行应为表头：" + "、".join(COLUMNS[c] for c in REQUIRED)),
    (re.compile(r'unknown column "(.*)" in the header.*'), r"表头里有不认识的列“\1”"),
    (
        re.compile(r'column "(?P<c>.*)" appears twice.*'),
        lambda m: f"表头里“{_column(m)}”列出现了两次",
    ),
    (
        re.compile(r"the header lacks (?P<c>[\w, ]+) \(.*"),
        lambda m: "表头缺少：" + "、".join(COLUMNS.get(c, c) for c in m["c"].split(", ")),
    ),
]


def chinese(reason: str) -> str:
    """`reason` in Chinese when it is one the importer gives."""
    for pattern, words in REASONS:
        match = pattern.fullmatch(reason)
        if match:
            return words(match) if callable(words) else match.expand(str(words))
    return reason
