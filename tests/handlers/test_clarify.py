"""When unsure, ask: one yes/no question before acting on a reading the parser is not sure
of, through the webhook. The example messages are checked against the real parser first, so
a retrained model that reads them otherwise fails here with a clear message, not silently."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage import requests
from storage.models import Status
from tests.handlers.community import ADMIN, Community, community
from tests.handlers.test_relay import talking

QUESTION = "您是需要找人帮忙吗？回复“是”或“不是”。"
# Vague: a lamp, a child's homework, 这个我看看 from a volunteer holding an offer.
LAMP, HOMEWORK, HAVE_A_LOOK = "楼下那个灯", "孩子的作业", "这个我看看"
# Panic without a word of asking: read alone, its intent would be unsure.
FIRE = "着火"


def _read(parser: Any, text: str) -> Any:
    return parser.parse(text, datetime(2026, 11, 23, 9))


def _unsure(parser: Any, text: str, intent: str) -> None:
    parse = _read(parser, text)
    assert (parse.intent, parse.sure) == (intent, False), f"pick another example than {text}"


async def _made(c: Community) -> list[int]:
    async with c.db.transaction() as session:
        return [r.id or 0 for r in await requests.in_status(session=session, statuses=list(Status))]


async def test_an_unsure_request_is_asked_then_made_on_yes(sqlite_url: str, parser: Any) -> None:
    _unsure(parser, LAMP, "request_help")
    async with community(sqlite_url, parser) as c:
        assert await c.say("oChen", LAMP) == QUESTION
        assert await _made(c) == [], "nothing is done before the answer"
        made = await c.say("oChen", "是")
        assert "#1" in made
        assert (await c.request(1)).text == LAMP  # the first message, not the 是


async def test_an_unsure_request_is_dropped_on_no(sqlite_url: str, parser: Any) -> None:
    _unsure(parser, HOMEWORK, "request_help")
    async with community(sqlite_url, parser) as c:
        assert await c.say("oChen", HOMEWORK) == QUESTION
        dropped = await c.say("oChen", "不是")
        assert dropped.startswith("好的，这条先不发求助。") and "帮助" in dropped
        assert await _made(c) == []
        # The question is gone: a later 是 is no answer to it.
        assert "#" not in await c.say("oChen", "是")
        assert await _made(c) == []


async def test_dialect_answers_count(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        assert await c.say("oChen", LAMP) == QUESTION
        assert "#1" in await c.say("oChen", "係呀")
        assert await c.say("oLin", HOMEWORK) == QUESTION
        assert (await c.say("oLin", "毋是")).startswith("好的")
        assert await _made(c) == [1]


async def test_anything_else_is_read_afresh(sqlite_url: str, parser: Any) -> None:
    async with community(sqlite_url, parser) as c:
        assert await c.say("oChen", LAMP) == QUESTION
        made = await c.say("oChen", "阳光花园3号楼，帮我去超市买点菜")
        assert "#1" in made
        assert (await c.request(1)).category == "errand"
        assert await _made(c) == [1], "the unsure message was not made a request as well"


async def test_an_emergency_is_never_asked(sqlite_url: str, parser: Any) -> None:
    assert _read(parser, FIRE).urgency == "emergency"
    async with community(sqlite_url, parser) as c:
        reply = await c.say("oChen", FIRE)
        assert "回复“是”" not in reply
        assert (await c.request(1)).urgency == "emergency"
        assert any("紧急" in t for t in await c.told(ADMIN)), "the duty worker is alerted at once"


async def test_a_relay_message_is_never_asked(sqlite_url: str, parser: Any) -> None:
    async with talking(sqlite_url, parser) as c:
        relayed = await c.say("oChen", LAMP)
        assert relayed.startswith("已转给志愿者王阿姨（#1）。") and "回复“是”" not in relayed
        assert await _made(c) == [1]


async def test_an_unsure_acceptance_is_asked_of_a_volunteer_only(
    sqlite_url: str, parser: Any
) -> None:
    _unsure(parser, HAVE_A_LOOK, "accept_task")
    async with community(sqlite_url, parser) as c:
        await c.volunteer("oWang", "王阿姨", ["errand"])
        await c.say("oChen", "阳光花园3号楼，帮我去超市买点菜")
        assert await c.say("oWang", HAVE_A_LOOK) == "您是要接下这个任务吗？回复“是”或“不是”。"
        assert (await c.request(1)).status != Status.ACCEPTED
        await c.say("oWang", "是")
        assert (await c.request(1)).status == Status.ACCEPTED
        # Not a volunteer: there is no task of theirs to take, and no question either.
        assert "回复“是”" not in await c.say("oLin", HAVE_A_LOOK)
