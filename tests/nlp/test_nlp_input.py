"""Input variety (traditional, full-width, emoji, voice typing, typos, dialect), compounds,
the extra lexicon, and start-up behaviour."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nlp import CATEGORIES, INTENTS, Parser, Where
from tests.nlp.conftest import NOW

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("simplified", "variant"),
    [
        ("明天下午三点谁能陪我妈去医院", "明天下午三點誰能陪我媽去醫院"),  # traditional
        ("帮我买菜 3栋2单元501", "帮我买菜　３栋２单元５０１"),  # full-width
        ("帮我买菜 3栋2单元501", "帮我买菜🥬🥬 3栋2单元501🙏🙏"),  # emoji
        ("你好 在吗 能不能帮我修下灯", "你好在吗能不能帮我修下灯"),  # voice input, no punctuation
        ("门锁坏了 急 5栋2单元1101", "門鎖壞了！！急！5棟2單元1101"),
    ],
)
def test_variants_parse_alike(parse, simplified: str, variant: str) -> None:
    assert parse(variant).to_contract() == parse(simplified).to_contract()


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        ("药以经送到了", "complete_task", None),  # 以经 for 已经
        ("再吗", "greeting", None),  # 再 for 在
        ("不好意思 零时有事 去不了了", "decline_task", None),  # 零时 for 临时
        ("楼道登坏了好几天了", "request_help", "repair"),  # 登 for 灯
        ("水管暴了 水哗哗往外喷", "request_help", "repair"),  # 暴 for 爆
        ("唔该 边个可以帮手拎啲米上楼", "request_help", "errand"),  # Cantonese
        ("屋企部雪櫃壞咗 邊個識整", "request_help", "repair"),
        ("can someone help me buy 一箱牛奶 thanks", "request_help", "errand"),
        ("i want to be a volunteer 周末有空", "volunteer_signup", None),
    ],
)
def test_typos_dialect_and_english(parse, text: str, intent: str, category: str | None) -> None:
    result = parse(text)
    assert (result.intent, result.category) == (intent, category)


def test_compounds_are_found_and_not_mistaken(jieba_cache: Path) -> None:
    parser = Parser(cache_dir=jieba_cache)
    parser.add_compounds(["阳光花园", "幸福里小区", "莲花五村", "七星花园"])
    sunny = parser.parse("我住阳光花园3号楼 帮我买点菜", NOW)
    assert (sunny.compound, sunny.where) == ("阳光花园", Where("3", None, None))
    # the short form of a registered name finds it too, and traditional writing
    assert parser.parse("幸福里5栋有人吗 帮我修下灯", NOW).compound == "幸福里小区"
    assert parser.parse("我住陽光花園", NOW).compound == "阳光花园"
    # the numerals inside a name are neither a time, a score nor an address
    lotus = parser.parse("莲花五村三栋 帮我买点菜", NOW)
    assert (lotus.compound, lotus.when, lotus.where) == ("莲花五村", None, Where("3", None, None))
    assert parser.parse("七星花园二栋的志愿者很耐心", NOW).score is None
    assert parser.parse("帮我买点菜", NOW).compound is None


def test_add_compounds_keeps_earlier_names(jieba_cache: Path) -> None:
    parser = Parser(cache_dir=jieba_cache)
    parser.add_compounds(["阳光花园"])
    parser.add_compounds(["幸福里"])
    assert parser.parse("阳光花园", NOW).compound == "阳光花园"
    assert parser.parse("幸福里", NOW).compound == "幸福里"


def test_extra_lexicon_is_appended(tmp_path: Path, jieba_cache: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[intent.greeting]\nwords = ["侬好"]\n\n[category.errand]\nwords = ["代取"]\n',
        encoding="utf-8",
    )
    parser = Parser(extra_lexicon=extra, cache_dir=jieba_cache)
    assert parser.parse("侬好", NOW).intent == "greeting"
    assert parser.parse("麻烦代取一下", NOW).category == "errand"
    # the default words are still there
    assert parser.parse("你好", NOW).intent == "greeting"
    # without the extra file the word is no cue (the learned scorer may still guess)
    assert "i:greeting" not in Parser(cache_dir=jieba_cache).read("侬好").signals.hits


def test_jieba_cache_goes_to_cache_dir(tmp_path: Path) -> None:
    Parser(cache_dir=tmp_path)
    assert list(tmp_path.glob("jieba.u*.cache"))


def test_importing_nlp_loads_nothing() -> None:
    code = "import sys, nlp, nlp.jsonl; print(sorted({'jieba', 'opencc'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_public_tables() -> None:
    assert list(CATEGORIES) == [
        "medical",
        "elderly",
        "disability",
        "childcare",
        "tutoring",
        "hardship",
        "repair",
        "errand",
        "mediation",
        "safety",
        "other",
    ]
    assert CATEGORIES["medical"] == "助医"
    assert len(INTENTS) == 13 and "unknown" in INTENTS


def test_parse_is_frozen_and_contract_has_exactly_the_fields(parse) -> None:
    result = parse("明天下午三点谁能陪我妈去医院 12号楼")
    with pytest.raises(AttributeError):
        result.intent = "unknown"  # type: ignore[misc]
    assert list(result.to_contract()) == [
        "intent",
        "category",
        "urgency",
        "when",
        "where",
        "phone",
        "score",
        "task_ref",
    ]


def test_parse_is_thread_safe(parser: Parser) -> None:
    texts = [
        "明天下午三点谁能陪我妈去医院",
        "我住阳光花园3号楼 帮我买点菜",
        "五星好评",
        "任务12办完了",
        "楼上漏水 急死了",
        "不用买菜了",
    ] * 50
    alone = [parser.parse(text, NOW) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda text: parser.parse(text, NOW), texts))
    assert together == alone


def test_parse_keeps_no_per_text_cache(parser: Parser) -> None:
    """bench/bench_parse.py repeats the dev set: a cache keyed on texts would fake its rate."""
    text = "明天下午三点谁能陪我妈去医院 12号楼"
    first, again = parser.parse(text, NOW), parser.parse(text, NOW)
    assert first == again and first is not again
    sources = "\n".join(path.read_text("utf-8") for path in (REPO / "nlp").glob("*.py"))
    assert "lru_cache" not in sources and "functools" not in sources
