"""Fine points of the contract that messages nobody tuned for still missed (issue 9, fifth
and sixth rounds): a hazard with nobody in danger, a danger that is over now, the help asked
against its background in dialect and when the background's category comes first in the
contract's order, pets outside a dispute, and danger typed in toneless pinyin.

Every message here was written for this test, by the contract; none is in the labelled
files the model is trained on. Each table has positive and negative cases.
"""

from __future__ import annotations

import pytest

# (text, category, urgency): a hazard in the building with nobody in danger now is safety,
# normal or urgent by the usual rule, however alarmed the writer (很危险, 快来人) ...
HAZARDS = [
    ("楼道里电动车在充电 好危险", "safety", "normal"),
    ("电动车在楼道里充电 很危险 快来人管一下", "safety", "urgent"),
    ("有人把电瓶车拉到家里充电 太危险了 物业快来", "safety", "urgent"),
    ("走廊里有人飞线给电动车充电", "safety", "normal"),
    ("隔壁把电动车推进电梯上楼充电 吓死人了", "safety", "normal"),
    ("樓道有人叉緊電單車電 好危險", "safety", "normal"),
    ("消防通道被杂物堵死了 太危险了 赶紧来人清一下", "safety", "urgent"),
    ("小区路口的井盖开着 很危险 快来处理", "safety", "urgent"),
    ("有个陌生人在楼道里转悠了一上午 好可疑", "safety", "normal"),
]
# ... while the hazard turning into a fire, smoke or sparks now is an emergency still.
HAZARDS_NOW = [
    ("楼道里的电动车充电着火了", "safety"),
    ("电动车在走廊充电 电池在冒烟", "safety"),
    ("飞线充电的插头冒火花了 有股烧焦味", "safety"),
    ("消防通道堵死了 楼上起火了 人下不来", "safety"),
    ("电瓶车充电爆炸了 快来人", "safety"),
]


# The same words about a pain or a fall that is over now are no emergency ...
OVER_NOW = [
    "胸口痛了一下现在好了 想找人陪我去医院看看",
    "刚才晕了一下现在没事了",
    "我妈刚才摔倒起不来 现在已经缓过来了 想找人陪去医院复查",
    "昨晚喘不上气 今天好多了 想请人帮忙拿点药",
    "我爸刚才胸口疼 现在不疼了",
    "头晕了一阵 现在好些了 谁能陪我去社区医院量个血压",
    "啱先心口痛 而家好返啲喇 想揾人陪我睇醫生",
    "頭拄仔頭殼眩 這馬好矣",
    "奶奶刚才晕倒了 现在醒了 也能说话了 想找人帮忙送去医院检查",
]
# ... but a pain that goes on, or came back, is.
STILL_NOW = [
    "现在还疼 胸口痛得厉害",
    "刚才胸口痛 现在还是喘不上气",
    "刚才晕倒了 现在还没醒",
    "本来好多了 现在又喘不上气了",
    "我爸摔倒了 到现在还起不来",
    "胸口痛了一下 现在好像更疼了",
    "我爸胸口痛了一下 现在还是不见好转",
    "半夜被胸口痛醒了 现在还疼",
    "老伴晕倒了 叫不醒了",
    "我妈摔倒了 扶不起来了",
]


# (text, category): the category follows the help asked, not the background, in dialect too.
HELP_ASKED = [
    ("我要去睇醫生 想揾人幫我湊孫一個下晝", "childcare"),
    ("我去睇醫生 邊個可以幫手睇住個仔兩個鐘", "childcare"),
    ("我入院做手術 想揾人幫手湊細路放學", "childcare"),
    ("阮阿母破病 敢有人會當共阮顧囝仔一下晡", "childcare"),
    ("我要去医院照顾我爸 谁能帮我看一下孩子", "childcare"),
    ("我阿媽住院 想揾人幫手去街市買餸", "errand"),
    # the help is medical: background childcare does not make it childcare
    ("我要湊仔 冇時間 想揾人幫我阿媽去醫院攞藥", "medical"),
    ("我個仔發燒 想揾人陪佢去睇醫生", "medical"),
]

# (text, category): pets not in a dispute between neighbours are other ...
PETS = [
    ("我家猫卡在空调外机上下不来了 谁能帮忙", "other"),
    ("我家狗走丢了 有没有人看到", "other"),
    ("我的猫爬到树上下不来了 哪位有梯子", "other"),
    ("小狗跑出去两天了 帮忙留意一下", "other"),
    ("我隻貓走失咗 有冇人見過", "other"),
    ("阮的狗仔走無去矣 敢有人看著", "other"),
    ("我出差三天 谁能帮我喂一下猫", "other"),
    # ... and a neighbours' dispute about one is mediation.
    ("楼上的狗天天半夜叫 说了也不管", "mediation"),
    ("邻居的狗在我家门口拉屎 想请人调解", "mediation"),
]

# (text, category): danger typed in toneless pinyin reaches the detector.
PINYIN_DANGER = [
    ("wo ma tou hen yun zhan bu qi lai", "medical"),
    ("wo ba hu xi kun nan", "medical"),
    ("wo ba xiong kou tong", "medical"),
    ("nai nai die dao le pa bu qi lai", "medical"),
    ("wo ye ye yun dao le", "medical"),
    ("wo ma hun guo qu le", "medical"),
    ("ta liu xue bu zhi", "medical"),
    ("jia li zhao huo le", "safety"),
    ("lou dao li hao duo yan", "safety"),
    ("chu fang you ran qi wei", "safety"),
    ("wo ba jiao bu xing", "medical"),
    ("du ju de wang nai nai liang tian mei ren ying", "elderly"),
    ("wo ma chuan bu guo qi", "medical"),
    ("kun zai dian ti li le", "safety"),
]
PINYIN_CALM = [
    ("bang wo mai dian yao", "request_help", "medical", "normal"),
    ("ming tian xiang qu yi yuan fu cha", "request_help", "medical", "normal"),
]


def _reading(parse, text: str) -> tuple[str, str | None, str | None]:
    result = parse(text)
    return result.intent, result.category, result.urgency


@pytest.mark.parametrize(("text", "category", "urgency"), HAZARDS)
def test_a_hazard_with_nobody_in_danger(parse, text: str, category: str, urgency: str) -> None:
    assert _reading(parse, text) == ("request_help", category, urgency)


@pytest.mark.parametrize(("text", "category"), HAZARDS_NOW)
def test_a_hazard_that_is_a_danger_now(parse, text: str, category: str) -> None:
    assert _reading(parse, text) == ("request_help", category, "emergency")


@pytest.mark.parametrize("text", OVER_NOW)
def test_a_danger_over_now(parse, text: str) -> None:
    assert parse(text).urgency != "emergency"


@pytest.mark.parametrize("text", STILL_NOW)
def test_a_danger_still_now(parse, text: str) -> None:
    assert _reading(parse, text) == ("request_help", "medical", "emergency")


@pytest.mark.parametrize(("text", "category"), PINYIN_DANGER)
def test_danger_in_pinyin(parse, text: str, category: str) -> None:
    assert _reading(parse, text) == ("request_help", category, "emergency")


@pytest.mark.parametrize(("text", "intent", "category", "urgency"), PINYIN_CALM)
def test_calm_pinyin(parse, text: str, intent: str, category: str, urgency: str) -> None:
    assert _reading(parse, text) == (intent, category, urgency)


@pytest.mark.parametrize(("text", "category"), HELP_ASKED + PETS)
def test_the_help_asked(parse, text: str, category: str) -> None:
    result = parse(text)
    assert (result.intent, result.category) == ("request_help", category)
    assert result.urgency != "emergency"


# A break-in under way is danger to property right now (the contract's emergency) ...
BREAK_IN_NOW = [
    "有人在撬我家门",
    "小偷正在撬隔壁的门 我不敢出去",
    "有个陌生人在撬楼下的窗户",
    "有贼撬紧我屋企道门",
]
# ... but not a lock to be forced by the locked-out owner, nor one forced yesterday.
BREAK_IN_NOT_NOW = [
    ("帮我撬一下锁，钥匙锁屋里了", "normal"),
    ("昨天有人撬了我家门，想找人帮忙换个锁", "normal"),
    ("担心有小偷撬门，想找人帮忙装个监控", "normal"),
]


@pytest.mark.parametrize("text", BREAK_IN_NOW)
def test_a_break_in_under_way(parse, text: str) -> None:
    assert parse(text).to_contract()["urgency"] == "emergency", text


@pytest.mark.parametrize(("text", "urgency"), BREAK_IN_NOT_NOW)
def test_a_lock_forced_but_no_break_in_now(parse, text: str, urgency: str) -> None:
    reading = parse(text).to_contract()
    assert (reading["intent"], reading["urgency"]) == ("request_help", urgency), text


# (text, category): issue 9, sixth round. The background names one category, the clause
# with the plea another, and the help asked wins, in either order ...
HELP_OVER_BACKGROUND = [
    ("帮我把快递从驿站拿上来，我刚做完手术", "errand"),
    ("我要去医院陪我妈做手术 谁能帮我照看一下儿子", "childcare"),
    ("我扭到腰了 谁能帮我把这两袋垃圾拿下去扔掉", "errand"),
    ("我在医院打吊针 谁能帮我去幼儿园接孩子", "childcare"),
    ("我脚肿了下不了楼 麻烦帮我把厕所的灯修一下", "repair"),
    ("我刚出院在家休养 楼上天天剁肉吵死了 能不能找人去劝劝", "mediation"),
    ("帮我给独居的姑婆送个午饭吧 我发烧出不了门", "elderly"),
    ("电梯坏了 能不能帮我把这桶水扛到九楼", "errand"),
    ("I hurt my back 谁能帮我 carry 这箱东西上楼", "errand"),
    # ... while help asked in the background's own category, or for a disabled resident,
    # keeps it.
    ("我在家带孙子走不开 谁能帮我去医院拿一下化验单", "medical"),
    ("电梯坏了我下不去 麻烦谁帮我去药店买点感冒药", "medical"),
    ("我发烧了 谁能陪我去诊所看看", "medical"),
    ("隔壁坐轮椅的刘叔想去超市 谁能陪他去一趟", "disability"),
]


@pytest.mark.parametrize(("text", "category"), HELP_OVER_BACKGROUND)
def test_the_help_asked_over_its_background(parse, text: str, category: str) -> None:
    reading = parse(text).to_contract()
    assert (reading["intent"], reading["category"]) == ("request_help", category), text
    assert reading["urgency"] != "emergency", text


# The writer locked in where they cannot get out is an emergency (a balcony, a bathroom) ...
LOCKED_IN_SELF = [
    "我被反锁在阳台上了 手机就剩一点电",
    "我被关在卫生间了 门打不开",
    "我刚被锁在地下室了 出不去",
    "救命 我被困在储藏室里",
]
# ... the writer locked out, keys locked in, or being locked in yesterday are not.
LOCKED_IN_SELF_NOT = [
    ("我被反锁在门外了 谁会开锁", "normal"),
    ("我的钥匙被锁在车里了 谁能帮忙", "normal"),
    ("我昨天被锁在阳台上了 幸好邻居帮忙 想找人把锁换了", "normal"),
]


@pytest.mark.parametrize("text", LOCKED_IN_SELF)
def test_the_writer_locked_in(parse, text: str) -> None:
    assert _reading(parse, text) == ("request_help", "safety", "emergency")


@pytest.mark.parametrize(("text", "urgency"), LOCKED_IN_SELF_NOT)
def test_the_writer_locked_out_or_no_longer_locked_in(parse, text: str, urgency: str) -> None:
    intent, _category, found = _reading(parse, text)
    assert (intent, found) == ("request_help", urgency)


# English and toneless pinyin for the day, the family and common errands: the day is the
# `when`, the family member the one helped.
TYPED_OTHERWISE = [
    ("help me buy some rice tomorrow please", "errand", "2026-11-24"),
    ("can someone take my mum to the hospital tomorrow afternoon", "medical", "2026-11-24T15:00"),
    ("can you pick up my grandson from school today", "childcare", "2026-11-23"),
    ("wo xiang zhao ren bang wo ban yi xia xi yi ji", "errand", None),
    ("ming tian shang wu shei neng pei wo qu yi yuan", "medical", "2026-11-24T09:00"),
]


@pytest.mark.parametrize(("text", "category", "when"), TYPED_OTHERWISE)
def test_english_and_pinyin_days_and_needs(parse, text: str, category: str, when: str) -> None:
    reading = parse(text).to_contract()
    assert (reading["intent"], reading["category"], reading["when"]) == (
        "request_help",
        category,
        when,
    ), text
