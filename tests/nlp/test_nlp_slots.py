"""Phones, satisfaction scores and task numbers."""

from __future__ import annotations

import pytest

PHONES = [
    ("我电话13906021548", "13906021548"),
    ("电话 137 0596 2281 尽快来", "13705962281"),
    ("他电话是135-9923-4410", "13599234410"),
    ("电话：１５８６０２１３３７９", "15860213379"),
    ("联系我 幺三八零五九一六六二四", "13805916624"),
    ("任务20的志愿者送错了 他电话13365920817一直不接", "13365920817"),
    ("电话+8613805916624", "13805916624"),
    ("电话 +86 138 0591 6624", "13805916624"),
]

NOT_PHONES = [
    "物业电话0592-5561234打不通",
    "120打了还没到",
    "报警打110",
    "号码12012345678",  # mobiles start 13-19
    "订单号138059166241",  # twelve digits
    "取件码8-3-1205",
]


@pytest.mark.parametrize(("text", "expected"), PHONES)
def test_phone(parse, text: str, expected: str) -> None:
    assert parse(text).phone == expected


@pytest.mark.parametrize("text", NOT_PHONES)
def test_not_a_phone(parse, text: str) -> None:
    assert parse(text).phone is None


SCORES = [
    ("给3分", 3),
    ("打个分 2分 迟到了一个多小时", 2),
    ("5星", 5),
    ("4颗星 小伙子很热心", 4),
    ("五星好评", 5),
    ("5粒星", 5),
    ("三星吧 态度还可以", 3),
    ("两颗星 东西少了一样", 2),
    ("#9 评分：4分 服务很好", 4),
    ("非常满意", 5),
    ("很满意谢谢小王", 5),
    ("十分满意", 5),
    ("满意", 4),
    ("18号单 满意", 4),
    ("一般吧 来得有点晚", 3),
    ("还行", 3),
    ("评价：不满意，东西买错了", 2),
    ("很差", 1),
    ("非常不满意！！", 1),
    ("⭐⭐⭐⭐⭐ 五星 阿姨人真好👍", 5),
]


@pytest.mark.parametrize(("text", "expected"), SCORES)
def test_score(parse, text: str, expected: int) -> None:
    result = parse(text)
    assert result.intent == "rate_service"
    assert result.score == expected


@pytest.mark.parametrize(
    "text", ["⭐⭐⭐⭐⭐", "服务很好 小李很耐心 谢谢", "评价一下 小李很耐心 服务很到位"]
)
def test_rating_without_a_score(parse, text: str) -> None:
    result = parse(text)
    assert result.intent == "rate_service"
    assert result.score is None


@pytest.mark.parametrize("text", ["帮忙看一下孩子 十分钟就回来", "我要出差一星期 谁能帮我喂猫"])
def test_score_only_for_ratings(parse, text: str) -> None:
    assert parse(text).score is None


TASK_REFS = [
    ("任务12办完了", "12"),
    ("12号单我接了", "12"),
    ("１５号单的志愿者迟到了", "15"),
    ("取消#20", "20"),
    ("＃２５ 我来", "25"),
    ("接单 12", "12"),
    ("接错了 任务 27 我不接", "27"),
    ("任务五十一我来", "51"),
    ("放弃任务七", "7"),
    ("#7 done 👌", "7"),
]


@pytest.mark.parametrize(("text", "expected"), TASK_REFS)
def test_task_ref(parse, text: str, expected: str) -> None:
    assert parse(text).task_ref == expected


@pytest.mark.parametrize(
    "text", ["住3号楼 帮我买点菜", "28号谁能帮我买点菜", "这个任务一直没人接 怎么回事", "接单"]
)
def test_no_task_ref(parse, text: str) -> None:
    assert parse(text).task_ref is None


def test_task_number_is_not_a_date(parse) -> None:
    result = parse("12号单我接明天下午三点到")
    assert (result.task_ref, result.when) == ("12", "2026-11-24T15:00")
