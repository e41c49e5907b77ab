"""What production sends that the demo never does: empty senders, deep XML, long keys.

Every request here is well signed, so only the content can be wrong: the answer is 200 or 400,
never a 5xx, and a refused message leaves no row behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.wechat.protocol import message_xml
from storage.db import Database, open_database
from storage.models import ProcessedMessage, User
from tests.conftest import make_config
from tests.servers import Running, jinlin


@pytest.fixture
async def server(db_url: str, parser: Any) -> AsyncIterator[Running]:
    async with jinlin(make_config(database={"url": db_url}), parser) as running:
        yield running


@pytest.fixture
async def peek(db_url: str) -> AsyncIterator[Database]:
    db = open_database(db_url)
    yield db
    await db.close()


async def post(server: Running, body: str) -> tuple[int, str]:
    query, signed = server.wechat.signed(body, encrypt=False)
    async with server.http.post(
        f"{server.url}/wechat", params=query, data=signed.encode()
    ) as response:
        return response.status, await response.text()


async def rows(db: Database) -> tuple[int, int, set[str]]:
    async with db.transaction() as session:
        users = set((await session.execute(select(User.openid))).scalars())
        keys = (await session.execute(select(func.count()).select_from(ProcessedMessage))).scalar()
    return len(users), int(keys or 0), users


def text_message(**fields: Any) -> str:
    base: dict[str, Any] = {
        "ToUserName": "gh_jinlin",
        "FromUserName": "oResident1",
        "CreateTime": 1_700_000_000,
        "MsgType": "text",
        "Content": "你好",
        "MsgId": 1,
    }
    return message_xml({**base, **fields})


@pytest.mark.parametrize("field", ["FromUserName", "ToUserName"])
async def test_an_empty_sender_or_account_is_400_and_stores_nothing(
    server: Running, peek: Database, field: str
) -> None:
    for empty in ("", "   "):
        assert (await post(server, text_message(**{field: empty})))[0] == 400
    missing = text_message().replace("<FromUserName><![CDATA[oResident1]]></FromUserName>", "")
    assert (await post(server, missing))[0] == 400
    assert await rows(peek) == (0, 0, set())


async def test_deeply_nested_xml_is_400_not_a_recursion_error(
    server: Running, peek: Database
) -> None:
    deep = "<a>" * 1000 + "x" + "</a>" * 1000
    body = text_message(Content="").replace("<![CDATA[]]>", deep)
    assert (await post(server, body))[0] == 400
    nested_sender = text_message().replace("<![CDATA[oResident1]]>", "<a><b>oResident1</b></a>")
    assert (await post(server, nested_sender))[0] == 400
    assert await rows(peek) == (0, 0, set())


async def test_long_urls_openids_and_msgids_work_on_both_backends(
    server: Running, peek: Database
) -> None:
    url = "https://mp.weixin.qq.com/s?" + "x" * 200
    view = message_xml(
        {
            "ToUserName": "gh_jinlin",
            "FromUserName": "oResident1",
            "CreateTime": 1_700_000_000,
            "MsgType": "event",
            "Event": "VIEW",
            "EventKey": url,
        }
    )
    assert (await post(server, view))[0] == 200
    assert (await post(server, view))[0] == 200  # WeChat's retry: recognised, not doubled
    long_openid = "o" + "A" * 99
    status, body = await post(server, text_message(FromUserName=long_openid))
    assert status == 200 and "您好" in body
    status, body = await post(server, text_message(MsgId="9" * 200))
    assert status == 200 and "您好" in body
    _, keys, openids = await rows(peek)
    assert openids == {"oResident1", long_openid}  # whole, never cut short
    assert keys == 3


async def test_a_digest_keeps_two_long_keys_apart(server: Running, peek: Database) -> None:
    # Two VIEW events whose keys differ only past the column's length are two events.
    for tail in ("a", "b"):
        event = message_xml(
            {
                "ToUserName": "gh_jinlin",
                "FromUserName": "oResident1",
                "CreateTime": 1_700_000_000,
                "MsgType": "event",
                "Event": "VIEW",
                "EventKey": "https://example.com/" + "x" * 300 + tail,
            }
        )
        assert (await post(server, event))[0] == 200
    assert (await rows(peek))[1] == 2
    async with peek.transaction() as session:
        keys = list((await session.execute(select(ProcessedMessage.key))).scalars())
    # The sender stays readable in the key, so erasing their data still finds it.
    assert all(key.startswith("oResident1:sha256:") and len(key) < 256 for key in keys)


async def test_an_openid_too_long_for_any_account_is_400(server: Running, peek: Database) -> None:
    assert (await post(server, text_message(FromUserName="o" * 129)))[0] == 400
    assert await rows(peek) == (0, 0, set())


@pytest.mark.parametrize("openid", ["oRes\rident", "oRes ident", "oRes\tident", "oRes\x85ident"])
async def test_an_openid_with_whitespace_inside_is_400(
    server: Running, peek: Database, openid: str
) -> None:
    # Regression: the XML reader turned "\r" into "\n", so the stored user was not the sender.
    assert (await post(server, text_message(FromUserName=openid)))[0] == 400
    assert await rows(peek) == (0, 0, set())


# --- the property: never a 5xx, never a half-written row --------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
_OPENIDS = st.one_of(
    st.sampled_from(["oResident1", "oResident2", "", " ", "None"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=140),
)
_FIELDS = st.fixed_dictionaries(
    {
        "ToUserName": st.sampled_from(["gh_jinlin", "", "gh_other"]),
        "FromUserName": _OPENIDS,
        "CreateTime": st.one_of(
            st.integers(min_value=-(10**20), max_value=10**20), st.just("soon"), _TEXT
        ),
        "MsgType": st.sampled_from(
            ["text", "event", "voice", "image", "location", "link", "shortvideo", "TEXT", "x"]
        ),
    },
    optional={
        "Content": _TEXT,
        "Recognition": _TEXT,
        "Event": st.sampled_from(
            ["subscribe", "unsubscribe", "SCAN", "VIEW", "CLICK", "LOCATION", "", "x"]
        ),
        "EventKey": st.one_of(_TEXT, st.text(max_size=400)),
        "MsgId": st.one_of(st.integers(min_value=0), st.text("0123456789", max_size=300), _TEXT),
        "Location_X": st.one_of(st.floats(allow_nan=True), _TEXT),
        "Latitude": st.one_of(st.floats(), _TEXT),
        "Label": _TEXT,
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fields=_FIELDS, nesting=st.integers(min_value=0, max_value=3))
async def test_a_well_signed_request_never_gets_a_5xx_or_leaves_half_a_row(
    server: Running, peek: Database, fields: dict[str, Any], nesting: int
) -> None:
    body = message_xml(fields)
    if nesting:
        body = body.replace("<xml>", "<xml>" + "<n>" * nesting * 400, 1).replace(
            "</xml>", "</n>" * nesting * 400 + "</xml>"
        )
    before = await rows(peek)
    status, _ = await post(server, body)
    after = await rows(peek)
    assert status in (200, 400)
    if status == 400:
        assert after == before
        return
    # The XML reader strips the whitespace around every field's text, as WeChat's SDKs do.
    sender = fields["FromUserName"].strip()
    new_users = after[2] - before[2]
    assert new_users <= {sender}  # exactly the sender, never "None" or a cut
    assert 0 <= after[1] - before[1] <= 1
    if after[1] > before[1]:  # a handled message: its user and its key, together
        assert sender in after[2]
