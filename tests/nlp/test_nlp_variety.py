"""Input variety of the contract: each way residents write, parsed like its Mandarin meaning.

Every message here was written for this test, by the contract; none is in the labelled
files the model is trained on.
"""

from __future__ import annotations

import pytest

from nlp.normalize import VARIANTS, load_variants

# (text, intent, category, urgency)
CANTONESE = [
    ("唔該邊位街坊可以幫我去街市買兩斤菜", "request_help", "errand", "normal"),
    ("我阿媽喺屋企跌親 起唔到身 佢好痛", "request_help", "medical", "emergency"),
    ("屋企個雪櫃壞咗 有冇人識整", "request_help", "repair", "normal"),
    ("聽日邊個得閒幫手湊個仔放學", "request_help", "childcare", "normal"),
    ("而家有冇人可以幫我買包藥 我發緊燒", "request_help", "medical", "urgent"),
    ("唔急 得閒先嚟幫我換個燈膽", "request_help", "repair", "normal"),
    ("我尋日嗰個求助有冇人接咗呀", "check_status", None, None),
    ("唔使嚟喇 我個女返咗嚟幫我", "cancel_request", None, None),
    ("多謝晒你哋", "thanks", None, None),
    ("任務九我嚟 半個鐘到", "accept_task", None, None),
    ("我阿爺喺廁所跌低咗 企唔穩 爬唔起身", "request_help", "medical", "emergency"),
]

MINNAN = [
    # as typed in Xiamen (simplified) and in Taiwan (traditional)
    ("阮阿嬷欲去病院看医生 敢有人会当陪伊", "request_help", "medical", "normal"),
    ("阮兜的水道頭歹去矣 敢有人會曉修", "request_help", "repair", "normal"),
    ("阮阿公跋倒佇浴間 袂振動 緊來鬥相共", "request_help", "medical", "emergency"),
    ("明仔載敢有人會當共阮去學校接阮孫", "request_help", "childcare", "normal"),
    ("阮厝內有足臭的瓦斯味 阮驚甲", "request_help", "safety", "emergency"),
    ("毋免來矣 阮後生轉來矣", "cancel_request", None, None),
    ("多謝恁 真感心", "thanks", None, None),
    ("阮嘛欲做志工 欲按怎報名", "volunteer_signup", None, None),
    ("阮阿嬤倒佇眠床邊 叫袂醒", "request_help", "medical", "emergency"),
]

TAIWAN_HONG_KONG = [
    ("有沒有志工可以陪我阿公去醫院回診", "request_help", "medical", "normal"),
    ("想請義工每週來陪我媽聊天", "request_help", "elderly", "normal"),
    ("管委會都不處理樓上漏水 想請里長出面協調", "request_help", "mediation", "normal"),
    ("家裡冷氣壞了 有沒有會修的志工", "request_help", "repair", "normal"),
    ("可以幫我去超商繳電話費嗎", "request_help", "errand", "normal"),
    ("我想當志工 要怎麼報名", "volunteer_signup", None, None),
    ("謝謝里長和志工們的幫忙", "thanks", None, None),
]

VOICE = [
    # elderly dictation: no punctuation, homophones
    ("家里然气味道很大我不敢开火", "request_help", "safety", "emergency"),
    ("我老伴兄口疼喘不上气", "request_help", "medical", "emergency"),
    ("我想找人帮我量一下雪压", "request_help", "medical", "normal"),
    ("帮我孙紫去幼儿元接一下", "request_help", "childcare", "normal"),
    ("我家水馆漏水了谁能来修", "request_help", "repair", "normal"),
    ("我要投述那个志愿者他态度不好", "complaint", None, None),
    ("我想当志原者怎么报名", "volunteer_signup", None, None),
]

PINYIN = [
    ("xie xie ni men", "thanks", None, None),
    ("zai ma", "greeting", None, None),
    ("wo de dan zi you ren jie le ma", "check_status", None, None),
    ("bang wo mai cai", "request_help", "errand", "normal"),
    ("zhe ge zen me yong a", "usage_help", None, None),
    ("wo ba ba shuai le qi bu lai", "request_help", "medical", "emergency"),
    ("ni men tai du tai cha le", "complaint", None, None),
    ("ming tian xia wu neng bu neng bang wo jie hai zi", "request_help", "childcare", "normal"),
    ("wo qu bu liao le", "decline_task", None, None),
]

TYPOS = [
    ("帮我取个快地", "request_help", "errand", "normal"),
    ("冰相坏了不制冷", "request_help", "repair", "normal"),
    ("我的单子进渡怎么样了", "check_status", None, None),
    ("取销我的求助", "cancel_request", None, None),
]

ENGLISH = [
    ("fire alarm响了 楼道里有smoke", "request_help", "safety", "emergency"),
    ("my dad fell down 起不来", "request_help", "medical", "emergency"),
    ("lift stuck 里面有个老人", "request_help", "safety", "emergency"),
    ("wifi坏了 谁会修路由器", "request_help", "repair", "normal"),
    ("can someone help me buy groceries", "request_help", "errand", "normal"),
    ("cancel我的request", "cancel_request", None, None),
    ("thank you 辛苦了", "thanks", None, None),
]


@pytest.mark.parametrize(
    ("text", "intent", "category", "urgency"),
    CANTONESE + MINNAN + TAIWAN_HONG_KONG + VOICE + PINYIN + TYPOS + ENGLISH,
)
def test_variety(parse, text: str, intent: str, category: str | None, urgency: str | None) -> None:
    result = parse(text)
    assert (result.intent, result.category, result.urgency) == (intent, category, urgency)


@pytest.mark.parametrize(
    ("dialect", "mandarin"),
    [
        ("我阿爸跌咗 起唔到身", "我爸爸摔倒了 起不来"),
        ("阮阿嬤欲去病院", "我奶奶要去医院"),
        ("有冇人可以幫手", "有没有人可以帮忙"),
        ("志工", "志愿者"),
        ("然气", "燃气"),
        ("fire alarm", "火警"),
        ("zai ma", "在吗"),
        ("我老豆跌低咗 爬唔起身", "我爸爸摔倒了 爬不起来"),
        ("阿公跋倒佇眠床邊 袂行路", "爷爷摔倒在床边 走不了路"),
        ("阮阿母破病 人無爽快", "我妈妈生病 人不舒服"),
        ("嗰度有好多煙", "那里有好多烟"),
        ("屋企部手機個火牛壞咗", "家里部手机个充电器坏了"),
    ],
)
def test_variants_become_mandarin(parser, dialect: str, mandarin: str) -> None:
    assert parser._normalize(dialect) == parser._normalize(mandarin)


def test_latin_variants_match_whole_words_only(parser) -> None:
    assert parser._normalize("helpful") == "helpful"
    assert parser._normalize("lifted") == "lifted"


def test_no_variant_is_in_two_tables() -> None:
    import tomllib

    with VARIANTS.open("rb") as fh:
        tables = tomllib.load(fh)
    seen: dict[str, str] = {}
    for name, table in tables.items():
        for key in table:
            assert key not in seen, f"{key!r} is in [{seen.get(key)}] and [{name}]"
            seen[key] = name
    assert len(load_variants()) == len(seen)
