"""Categories with the contract's precedence, urgency, and the skills/beneficiary extras."""

from __future__ import annotations

import pytest

CATEGORIES = [
    # the contract's own precedence examples
    ("陪老人去医院", "medical"),
    ("帮坐轮椅的老人买药", "medical"),
    ("推坐轮椅的邻居下楼晒太阳", "disability"),
    ("楼上漏水", "mediation"),
    ("家里水管漏水找人修", "repair"),
    ("帮我家老人买点菜", "elderly"),
    ("28号谁能帮我去医院门口那家店买个保温杯", "errand"),
    ("想请人帮忙去医院排队挂个号", "medical"),
    ("想申请残疾人补贴 能不能找人帮帮忙", "disability"),
    ("我老公截肢后在家做康复锻炼 需要人扶着练走路", "disability"),
    # one per category, written the way residents write
    ("闻到楼道里有煤气味", "safety"),
    ("小区后门总有陌生人转悠 能不能安排人巡逻", "safety"),
    ("我妈血压又高了 谁会量血压", "medical"),
    ("我是盲人 想请人帮我读一下信", "disability"),
    ("明天下午放学谁能帮我接一下孩子", "childcare"),
    ("我家小孩周六要考级 我要上班 能不能帮我送一下", "childcare"),
    ("孩子数学跟不上 想找人辅导", "tutoring"),
    ("外婆想学用智能手机 能不能派个志愿者来教一教", "tutoring"),
    ("对门的狗天天叫 说了也不听 求调解", "mediation"),
    ("马桶堵了 用皮搋子搞不通", "repair"),
    ("冰箱不制冷了", "repair"),
    ("我失业三个月了 想找份工作", "hardship"),
    ("独居的李奶奶想找个人陪她聊聊天", "elderly"),
    ("帮我去驿站取个快递", "errand"),
    ("我要叫个人帮我搬冰箱上六楼", "errand"),  # an appliance without a fault is no repair
    ("家里的狗要打疫苗 谁能帮我牵去宠物医院", "other"),
    ("帮忙去邮局寄一封挂号信", "errand"),
]


@pytest.mark.parametrize(("text", "expected"), CATEGORIES)
def test_category(parse, text: str, expected: str) -> None:
    result = parse(text)
    assert result.intent == "request_help"
    assert result.category == expected


URGENCY = [
    ("救命！我老公突然胸口痛，喘不上气", "emergency"),
    ("我爸在客厅摔倒了起不来快来人啊", "emergency"),
    ("阿伯跌咗落地 起唔到身 快啲嚟人啊", "emergency"),
    ("楼下垃圾桶着火了", "emergency"),
    ("厨房有很大的煤气味不敢开灯怎么办", "emergency"),
    ("有人被困在电梯里了", "emergency"),
    ("卫生间水管裂了 水喷得到处都是 已经漫到卧室了", "emergency"),
    ("插座冒火花还噼啪响", "emergency"),
    ("消防通道被电动车堵死了，万一着火人都出不去，希望物业尽快处理", "urgent"),
    ("老人摔了一跤 腿肿了 能不能帮忙送去医院", "normal"),
    ("有人在楼道里抽烟 好几次差点着火", "normal"),  # a near miss is a worry, not a fire
    ("煤气灶点不着火 打了好几次都不行", "normal"),
    ("帮我买两包纸巾 急用", "urgent"),
    ("请尽快来人修一下门锁", "urgent"),
    ("赶紧找人处理一下井盖", "urgent"),
    ("马上来人看看", "urgent"),
    ("冰箱不制冷了 今天之内能来修吗", "urgent"),
    ("今天下午帮我买点菜", "urgent"),  # help wanted today
    ("明天下午帮我买点菜", "normal"),
    ("帮我修下灯 不急", "normal"),
    ("帮我修下灯 不着急 明天来就行", "normal"),
    ("帮我修下灯 不用太急", "normal"),
    ("帮我修下灯 没那么急", "normal"),
    ("今天下午来修就行 不着急", "urgent"),  # wanted today: urgent by the contract's rule
    ("米都快吃完了 能不能帮帮我们", "normal"),
    ("快过年了 想请人帮忙写副春联", "normal"),
]


@pytest.mark.parametrize(("text", "expected"), URGENCY)
def test_urgency(parse, text: str, expected: str) -> None:
    result = parse(text)
    assert result.intent == "request_help"
    assert result.urgency == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我会修电器，也能陪老人看病", ("medical", "repair")),
        ("我是退休教师 可以免费给小孩辅导功课", ("tutoring",)),
        ("我有车 以后谁需要去医院可以找我", ("medical",)),
        ("我想当志愿者", ()),
    ],
)
def test_skills(parse, text: str, expected: tuple[str, ...]) -> None:
    result = parse(text)
    assert result.intent == "volunteer_signup"
    assert result.skills == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天谁能陪我妈去医院", "我妈"),
        ("楼下王奶奶想找人陪她聊聊天", "楼下王奶奶"),
        ("帮邻居买点菜", "邻居"),
        ("帮我家老人买点菜", "我家老人"),
        ("老爸82岁一个人在家 下午能不能有人去陪他坐坐", "老爸"),
        ("麻烦志愿者明天上午去陪一下刘爷爷", "刘爷爷"),
        ("帮我买点菜", None),
        ("老公出差了 有没有人能开车送我去医院", None),
        ("有没有靠谱的阿姨能帮忙接孩子", "孩子"),
    ],
)
def test_beneficiary(parse, text: str, expected: str | None) -> None:
    assert parse(text).beneficiary == expected


def test_no_beneficiary_outside_resident_intents(parse) -> None:
    assert parse("王奶奶家的灯已经换好了").beneficiary is None
