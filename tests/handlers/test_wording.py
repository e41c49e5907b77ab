"""Words that read right to whoever reads them: the resident, a volunteer, a worker."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.texts import for_whom
from tests.handlers.community import community


async def test_a_request_for_my_mum_reads_as_your_mum_and_the_residents_mother(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: the daughter was told 收到您为我妈发的求助 and the volunteer read
    # 需要（为我妈）, "for my mum", the resident's own words echoed back.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["errand"])
        reply = await c.say("oR", "阳光花园3号楼，帮我妈买点菜")
        assert "您为您母亲发的求助" in reply and "我妈" not in reply.split("\n")[0]
        offer = (await c.told("oV1"))[-1]
        assert "（为居民的母亲）" in offer and "为我妈" not in offer
        details = await c.say("oV1", "接单")
        assert "（为居民的母亲）" in details and "为我妈" not in details
        assert (await c.request(1)).beneficiary == "我妈"  # stored as the resident wrote it


@pytest.mark.parametrize(
    ("written", "to_sender", "to_others"),
    [
        ("我妈", "您母亲", "居民的母亲"),
        ("妈妈", "您母亲", "居民的母亲"),
        ("我爸爸", "您父亲", "居民的父亲"),
        ("我老伴", "您老伴", "居民的老伴"),
        ("我爷爷", "您爷爷", "居民的爷爷"),
        ("我奶奶", "您奶奶", "居民的奶奶"),
        ("我孩子", "您孩子", "居民的孩子"),
        ("我儿子", "您儿子", "居民的儿子"),
        ("我女儿", "您女儿", "居民的女儿"),
        ("阿妈", "您母亲", "居民的母亲"),
        ("我家老人", "您家老人", "居民家的老人"),
        ("我们家老头子", "您家老伴", "居民家的老伴"),
        ("我朋友", "您朋友", "居民的朋友"),
        ("楼下王奶奶", "楼下王奶奶", "楼下王奶奶"),
        ("隔壁张阿姨", "隔壁张阿姨", "隔壁张阿姨"),
        ("邻居", "邻居", "邻居"),
    ],
)
def test_who_a_request_is_for_as_each_reader_says_it(
    written: str, to_sender: str, to_others: str
) -> None:
    assert for_whom(written, whose="您") == to_sender
    assert for_whom(written, whose="居民") == to_others


async def test_volunteers_of_a_stand_in_compound_are_not_called_the_residents_own(
    sqlite_url: str, parser: Any
) -> None:
    # Regression: 地点待确认, then 已通知本小区的 1 位志愿者: the compound was only the one
    # routing falls back to, not the resident's, and the offer named it as the place.
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oV1", "王芳", ["elderly", "medical", "errand"])
        reply = await c.say("oR", "我家老人摔倒了起不来了")
        assert "地点待确认" in reply and "社区的 1 位志愿者" in reply, reply
        assert "本小区" not in reply
        assert "地点：地点待确认" in (await c.told("oV1"))[-1]
        assert "哪个小区" in await c.say("oR2", "帮我取个快递")
        reply = await c.say("oR2", "不知道")
        assert "已通知社区的" in reply and "本小区" not in reply, reply
        # The requests' histories say the same (the first routed as it was stored, the
        # second once the place question was given up).
        for number in (1, 2):
            notes = [e.note or "" for e in await c.history(number) if e.kind == "offered"]
            assert notes and all("本小区" not in n and "社区 1 位" in n for n in notes), notes
        # A known place still says whose volunteers they are.
        assert "本小区的 1 位志愿者" in await c.say("oR3", "阳光花园3号楼，帮我取个快递")
