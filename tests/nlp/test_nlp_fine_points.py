"""The contract's newer fine points: categories, intents, urgency and slots, one table each.

Every message here was written for this test, by the contract; none is in the labelled
files the model is trained on. NOW is Monday 2026-11-23 09:00.
"""

from __future__ import annotations

import pytest

from nlp import Where

CATEGORIES = [
    # the help asked, not the background
    ("我要去医院看我爸 谁能帮我接一下孙子放学", "childcare"),
    # family quarrels are mediation; a dispute about a hazard is safety
    ("我老公和我婆婆吵了一个礼拜了 想请社区的人来劝劝", "mediation"),
    ("隔壁天天把电动车推进楼道充电 说了也不听", "safety"),
    # lost pets, borrowing and paperwork that fits no row are other; school fees hardship
    ("我家的小狗跑丢了 黄色的 有人看到吗", "other"),
    ("谁家有电钻 借我用半天", "other"),
    ("孩子这学期的学费交不上了 能不能帮忙想想办法", "hardship"),
    # wheelchairs and hearing aids are disability; a deaf person at hospital is medical
    ("我的轮椅刹车坏了 谁会修", "disability"),
    ("助听器的电池用完了 帮忙买几粒", "disability"),
    ("我是聋人 明天要去医院看病 想找个会手语的陪我", "medical"),
    ("我是盲人 想找人陪我去银行", "disability"),
    # daily help for an older person beats errand; a hospital only as a place is no help
    ("帮我家老人买点菜送上楼", "elderly"),
    ("帮我去医院对面的超市买两箱牛奶", "errand"),
    ("帮我去医院排队挂个号", "medical"),
    # disability subsidies, rehabilitation at home, a disabled child
    ("想申请残疾人补贴 不会填表", "disability"),
    ("我妈中风以后在家做康复 需要有人扶着练走路", "disability"),
    ("我儿子是脑瘫 想找人周末陪他一会", "disability"),
]

INTENTS = [
    # thanks that name the help are thanks; praise of a person is rate_service
    ("谢谢你们帮我把米扛上楼", "thanks"),
    ("那个小伙子人真好 特别细心", "rate_service"),
    # dialect score words
    ("好满意 多谢晒", "rate_service"),
    # a wish to volunteer with a how-question; a volunteer asking how to take tasks
    ("我想当志愿者 怎么报名", "volunteer_signup"),
    ("我是志愿者 在哪里接任务", "usage_help"),
    # taking a named task in any words
    ("任务21交给我吧", "accept_task"),
    # a resident gives up their request; a volunteer gives back a task
    ("我发的求助不要了 已经找到人了", "cancel_request"),
    ("我接的任务8去不了了 换个人吧", "decline_task"),
    # adverts and group-buy posts
    ("团购新鲜草莓 二十元一盒 要的接龙", "unknown"),
]


@pytest.mark.parametrize(("text", "expected"), CATEGORIES)
def test_category(parse, text: str, expected: str) -> None:
    result = parse(text)
    assert (result.intent, result.category) == ("request_help", expected)


@pytest.mark.parametrize(("text", "expected"), INTENTS)
def test_intent(parse, text: str, expected: str) -> None:
    assert parse(text).intent == expected


def test_scores_in_dialect(parse) -> None:
    assert parse("好满意 多谢晒").score == 5
    assert parse("阮足满意").score == 5
    assert parse("俾5粒星").score == 5
    assert parse("⭐⭐⭐⭐").score is None


def test_advert_keeps_its_phone(parse) -> None:
    result = parse("专业疏通下水道 随叫随到 电话13959201234")
    assert (result.intent, result.phone) == ("unknown", "13959201234")


URGENCY = [
    ("唔急 下个礼拜帮我修下灯就得", "normal"),  # Cantonese negation
    ("毋免赶 下礼拜帮阮修电火", "normal"),  # Minnan negation
    ("慢慢来 这两天帮我修下门锁就行", "normal"),
    ("即刻帮我买包药", "urgent"),  # Cantonese urgency words
    ("而家有冇人帮我搬下嘢", "urgent"),
    ("快啲帮我整下个水喉", "urgent"),
    ("不急 今天下午来修就行", "urgent"),  # help wanted today is urgent, 不急 or not
]


@pytest.mark.parametrize(("text", "expected"), URGENCY)
def test_urgency(parse, text: str, expected: str) -> None:
    result = parse(text)
    assert (result.intent, result.urgency) == ("request_help", expected)


WHEN = [
    # dialect day words by meaning
    ("聽日幫我買餸", "2026-11-24"),
    ("明仔载帮阮买菜", "2026-11-24"),
    ("明个帮我买菜", "2026-11-24"),
    ("今仔日帮阮买菜", "2026-11-23"),
    ("今日幫我買餸", "2026-11-23"),
    ("後日幫我買餸", "2026-11-25"),
    ("聽朝幫我買餸", "2026-11-24T08:00"),
    ("明天下晡帮阮买菜", "2026-11-24T15:00"),
    ("聽日下晝幫我買餸", "2026-11-24T15:00"),
    ("明天早起帮阮买菜", "2026-11-24T08:00"),
    ("聽日朝早幫我買餸", "2026-11-24T08:00"),
    ("明天中晝帮阮买菜", "2026-11-24T12:00"),
    # a deadline is the when; a range gives its start
    ("明天下午四点前帮我把快递拿回来", "2026-11-24T16:00"),
    ("今晚前帮我把药送过来", "2026-11-23T19:00"),
    ("帮我复印几份材料 下午要用", "2026-11-23T15:00"),
    ("明天晚上八点到十点谁能帮我看孩子", "2026-11-24T20:00"),
]

NOT_WHEN = [
    "下个月帮我搬个家",
    "下周找个时间帮我修下灯",
    "周末帮我买点菜",
    "每天帮我倒一下垃圾",
]


@pytest.mark.parametrize(("text", "expected"), WHEN)
def test_when(parse, text: str, expected: str) -> None:
    assert parse(text).when == expected


@pytest.mark.parametrize("text", NOT_WHEN)
def test_not_a_when(parse, text: str) -> None:
    assert parse(text).when is None


def test_voice_typed_task_number(parse) -> None:
    assert parse("任务三十二我来").task_ref == "32"


def test_a_distance_is_no_address(parse) -> None:
    assert parse("这单我去 离我家就三栋楼").where is None
    assert parse("我住3栋 离超市两栋楼").where == Where("3", None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话+86 139 5920 1234", "13959201234"),
        ("香港电话 9123 4567", None),
        ("打我座机 0592-5123456", None),
    ],
)
def test_phones(parse, text: str, expected: str | None) -> None:
    assert parse(text).phone == expected
