"""Emergencies come first: the contract's list, their categories, and what is not one.

Every message here was written for this test, by the contract; none is in the labelled
files the model is trained on.
"""

from __future__ import annotations

import pytest

from nlp.danger import DangerDetector

# (text, category): each an emergency, mostly without an urgency word, as in a panic.
EMERGENCIES = [
    # the contract's urgency list
    ("我爸刚才在阳台上突然晕倒了", "medical"),
    ("奶奶在厨房滑倒了 自己爬不起来", "medical"),
    ("老公说胸口痛得厉害 满头大汗", "medical"),
    ("我妈喘不上气 嘴唇发紫", "medical"),
    ("楼下那家厨房着火了", "safety"),
    ("走廊里好多烟 呛得睁不开眼", "safety"),
    ("一开门就闻到很重的煤气味", "safety"),
    ("我和邻居被困在电梯里 电梯不动了", "safety"),
    ("水管爆了 水已经漫到卧室了", "repair"),
    # the new fine points
    ("外婆吃饭时嘴巴歪了 说话也说不清楚", "medical"),
    ("孩子吃葡萄噎住了 脸都憋红了", "medical"),
    ("吃了虾以后嘴唇肿起来 喉咙发紧", "medical"),
    ("手被玻璃划了 血流不止 按不住", "medical"),
    ("弟弟突然抽搐 口吐白沫", "medical"),
    ("楼梯口有个大爷倒在那 叫他没反应", "medical"),
    ("我家儿子走丢了 四岁 穿红衣服", "safety"),
    ("我爸有老年痴呆 上午出门到现在还没回来", "safety"),
    ("孩子被锁在车里了 车就停在太阳底下", "safety"),
    ("奶奶被关在阳台上了 门从里面锁住了", "safety"),
    ("对门独居的刘奶奶两天没开门了 打电话也没人接", "elderly"),
    ("插座冒火花 一股烧焦的味道", "safety"),
    ("心脏病犯了 快来人", "medical"),
    # the issue's own examples, in their varieties
    ("家里一股然气味 头有点晕", "safety"),
    ("阮阿公佇厝內昏去矣 叫攏袂醒", "medical"),
    ("fire alarm一直在叫 楼梯间都是烟", "safety"),
    ("我个女锁咗喺车入面 出唔嚟", "safety"),
]

# (text, intent, category, urgency): the same words, but no emergency now.
NOT_EMERGENCIES = [
    ("昨天楼下着火了 已经灭了 想找人帮忙清理一下楼道", "request_help", "safety", "normal"),
    ("厨房水管昨晚爆了 已经不漏了 想找个师傅换根管子", "request_help", "repair", "normal"),
    ("消防通道被电动车堵了 能不能让物业清一下", "request_help", "safety", "normal"),
    ("小区门口的井盖没了 晚上很危险", "request_help", "safety", "normal"),
    ("有个陌生人在单元门口转悠好几天了", "request_help", "safety", "normal"),
    ("家里燃气管用了十几年了 想换根新的", "request_help", "repair", "normal"),
    ("烟雾报警器一直嘀嘀响 应该是电池没电了 帮我换一下", "request_help", "repair", "normal"),
    ("楼下邻居天天在院子里烧烤 烟全飘到我家", "request_help", "mediation", "normal"),
    ("小区什么时候组织消防演习", "unknown", None, None),
    ("燃气泄漏了应该怎么处理 有没有安全知识讲座", "unknown", None, None),
    ("我爸找到了 在菜市场 谢谢大家帮忙找", "cancel_request", None, None),
    ("电梯里的人已经救出来了 不用派人了", "cancel_request", None, None),
    ("有人在楼道抽烟 差点把纸箱点着了", "request_help", "safety", "normal"),
    ("煤气灶打不着火了", "request_help", "repair", "normal"),
]


@pytest.mark.parametrize(("text", "category"), EMERGENCIES)
def test_emergency(parse, text: str, category: str) -> None:
    result = parse(text)
    assert (result.intent, result.category, result.urgency) == (
        "request_help",
        category,
        "emergency",
    )
    assert result.sure  # never held back by a question


@pytest.mark.parametrize(("text", "intent", "category", "urgency"), NOT_EMERGENCIES)
def test_not_an_emergency(
    parse, text: str, intent: str, category: str | None, urgency: str | None
) -> None:
    result = parse(text)
    assert (result.intent, result.category, result.urgency) == (intent, category, urgency)


@pytest.fixture(scope="module")
def detector(parser) -> DangerDetector:
    return parser._danger


@pytest.mark.parametrize(
    ("text", "now"),
    [
        ("万一着火了怎么办", False),  # a worry
        ("煤气灶点不着火", False),  # a negation
        ("没有闻到煤气味", False),
        ("昨天着火了", False),  # the past, just before the sign
        ("昨天开始胸口疼 现在喘不上气", True),  # ... unless it is happening still
        ("我爸中风以后说话不清楚 想找人陪他复健", False),  # a lasting condition
        ("我爸中风以后又突然说不出话了", True),  # ... that struck again
        ("猫不见了", False),  # a missing pet is no emergency
        ("我孙子不见了", True),
        ("钥匙锁在屋里了", False),  # keys locked in
        ("女儿锁在屋里了 一直哭", True),
        ("轮胎爆了", False),  # not water
        # signs told by their parts, however worded
        ("老伴叫了半天都不答应", True),
        ("爷爷胸口闷得难受", True),
        ("孩子呼吸好急 嘴唇有点发乌", True),
        ("妈妈嘴巴一下子歪了", True),
        ("右边手脚突然没力气 麻麻的", True),
        ("血一直往外冒 按都按不住", True),
        ("宝宝吞了一颗药片 不知道是什么药", True),  # a child and medicine: poisoning
        ("我刚吃了两片药片 头还是疼", False),  # an adult taking medicine
        ("宝宝误食了洗衣凝珠", True),
        ("孕妇肚子剧痛 还见了红出血", True),
        ("小孩从滑梯摔下来磕到头了", True),
        ("电梯卡在半路 里面有个老太太", True),
        ("爸爸有失智 出门散步到现在没回来", True),
        ("一整天打外婆的电话都没人接 她一个人住", True),
        ("楼道里全是烟 看不清楼梯", True),
        ("there's a gas smell in the kitchen", True),
        ("有个人举着刀在楼下乱砍", True),
        # guards that were wrong
        ("燃气灶旁边好臭 是不是漏气了", True),  # a question, not a denial
        ("门缝里往外冒烟", True),  # smoke, not a flood
        ("燃气报警器坏了 想换个新的", False),  # the alarm itself is the trouble
        ("马桶水箱一直哗哗流 关不住", False),  # a cistern floods nothing
        ("上回电梯困人是物业救出来的", False),  # over
        ("社区办急救班吗", False),  # a course
        ("灯掉下来一半 麻烦尽快来人", False),  # 尽快来人 is no cry for help
    ],
)
def test_detector_guards(detector: DangerDetector, parser, text: str, now: bool) -> None:
    danger = detector.read(parser._normalize(text))
    assert bool(danger and danger.now) is now


def test_a_message_without_danger_words_has_no_danger(detector: DangerDetector) -> None:
    assert detector.read("帮我买点菜") is None
