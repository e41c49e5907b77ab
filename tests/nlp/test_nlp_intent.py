"""Intents: every row of the contract's table, negation, and the mixed cases it fixes."""

from __future__ import annotations

import pytest

INTENTS = [
    # request_help, including pleas with no category word and greetings that ask
    ("帮我买点菜", "request_help"),
    ("水管爆了", "request_help"),
    ("明天谁能陪我妈去医院", "request_help"),
    ("你好，在吗？能不能帮我去菜市场买两斤排骨", "request_help"),
    ("想找个人帮忙翻译一封英文邮件", "request_help"),
    ("谁家有长梯子 借用一下", "request_help"),
    ("我家狗走丢了 有人看见吗", "request_help"),
    ("不急 这两天有空来帮我修下灯就行", "request_help"),
    ("谁能教我怎么用手机", "request_help"),
    ("救命", "request_help"),
    ("喂喂 帮我叫个人来通下水道 堵死了", "request_help"),
    # check_status
    ("我的单子有人接了吗", "check_status"),
    ("进度怎么样", "check_status"),
    ("请问我刚才发的买菜的求助有人接了吗", "check_status"),
    ("有没有人接我的单啊", "check_status"),
    ("志愿者大概几点能到啊", "check_status"),
    ("我那个买米的单子 还没人接吗", "check_status"),
    # cancel_request, including negation of a need
    ("不用了取消吧", "cancel_request"),
    ("撤销刚才的求助", "cancel_request"),
    ("不用买菜了 我儿子回来了", "cancel_request"),
    ("修水管的不用来了 已经自己修好了", "cancel_request"),
    ("12号单不要了", "cancel_request"),
    ("唔使嚟啦", "cancel_request"),
    ("明天不用来帮我买菜了", "cancel_request"),
    # rate_service
    ("五星好评", "rate_service"),
    ("给3分", "rate_service"),
    ("很满意谢谢小王", "rate_service"),
    ("服务很好 小李很耐心 谢谢", "rate_service"),
    # volunteer_signup
    ("我想当志愿者", "volunteer_signup"),
    ("我会修电器可以帮忙", "volunteer_signup"),
    ("算我一个 以后有跑腿的活叫我", "volunteer_signup"),
    ("我退休在家 每天下午都有空 陪老人聊天都可以", "volunteer_signup"),
    # accept_task
    ("接单", "accept_task"),
    ("我来 12", "accept_task"),
    ("这个我去", "accept_task"),
    ("這單我來 十分鐘到", "accept_task"),
    ("这单我可以接", "accept_task"),
    # decline_task
    ("这次去不了", "decline_task"),
    ("放弃任务12", "decline_task"),
    ("任务9我接不了了 退回去吧", "decline_task"),
    ("我腰扭了修水管那单做不了麻烦换个人", "decline_task"),
    ("这周我出差，先不接单了", "decline_task"),  # 接单 inside a refusal is no accept
    # complete_task
    ("已完成", "complete_task"),
    ("菜送到了", "complete_task"),
    ("任务12办完了", "complete_task"),
    ("已经帮张爷爷量完血压了 一切正常", "complete_task"),
    # complaint
    ("志愿者没来", "complaint"),
    ("等了一天没人管", "complaint"),
    ("这服务也太差了吧", "complaint"),
    ("接单的小伙子态度很不好", "complaint"),
    # greeting / thanks / usage_help / unknown
    ("你好", "greeting"),
    ("在吗", "greeting"),
    ("早", "greeting"),
    ("谢谢", "thanks"),
    ("辛苦了", "thanks"),
    ("太谢谢你们了 帮了大忙", "thanks"),
    ("非常感谢志愿者小周 帮我妈把药买回来了", "thanks"),  # thanks for help already given
    ("已经给王奶奶送过饭了", "complete_task"),
    ("我可以接这个单 下午三点前到", "accept_task"),
    ("我的单子显示已接单 但是一直没人联系我", "complaint"),
    ("志愿者要交钱吗", "usage_help"),
    ("求助信息能改吗", "usage_help"),
    ("我家里有台闲置的轮椅 谁需要可以送给他", "volunteer_signup"),
    ("怎么发布求助", "usage_help"),
    ("你能做什么", "usage_help"),
    ("怎么取消求助", "usage_help"),
    ("怎么给志愿者打分", "usage_help"),
    ("help", "usage_help"),
    ("今天天气不错", "unknown"),
    ("哈哈", "unknown"),
    ("今晚的球赛谁赢了", "unknown"),
    ("周末去鼓浪屿玩 有没有推荐的", "unknown"),
    ("【限时优惠】扫码领取红包 转发到三个群即可", "unknown"),
    ("我孙子今天结婚 请大家吃喜糖", "unknown"),
    ("", "unknown"),
]


@pytest.mark.parametrize(("text", "expected"), INTENTS)
def test_intent(parse, text: str, expected: str) -> None:
    assert parse(text).intent == expected


def test_plea_without_category_is_other(parse) -> None:
    result = parse("快过年了 想请写毛笔字好的邻居帮忙写副春联")
    assert (result.intent, result.category, result.urgency) == ("request_help", "other", "normal")


@pytest.mark.parametrize("text", ["你好", "谢谢", "怎么发布求助", "已完成", "哈哈"])
def test_category_and_urgency_only_for_requests(parse, text: str) -> None:
    result = parse(text)
    assert (result.category, result.urgency) == (None, None)


def test_long_message_with_the_need_last(parse) -> None:
    text = (
        "我家那个卫生间的水管也不知道是哪年装的了，前几天就发现洗手池下面一直有点渗水，"
        "一开始以为是没擦干，后来发现柜子底板都泡软了，我自己也不会弄，家里水管漏水找人修，"
        "不急，这两天有空来就行"
    )
    result = parse(text)
    assert (result.intent, result.category, result.urgency, result.when) == (
        "request_help",
        "repair",
        "normal",
        None,
    )
