"""The WeChat client against the stand-in over loopback HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.core.config import WeChatConfig
from bot.core.errors import WeChatAPIError
from bot.simulator.standin import STANDIN, StandinState, create_standin
from bot.wechat.client import WeChatClient, WeChatRateLimited, WeChatUnavailable
from storage import tokens
from storage.db import Database, open_database
from storage.errors import InvalidInput

APPID, SECRET = "wx1234567890abcdef", "client-test-secret"
OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz01"
CUSTOM = "/cgi-bin/message/custom/send"
STABLE = "/cgi-bin/stable_token"


@dataclass
class Standin:
    state: StandinState
    base: str


@pytest.fixture
async def wechat() -> AsyncIterator[Standin]:
    app = create_standin(APPID, SECRET)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield Standin(app[STANDIN], f"http://127.0.0.1:{server.port}")
    await server.close()


MakeClient = Callable[..., WeChatClient]


@pytest.fixture
async def make_client(db: Database, wechat: Standin) -> AsyncIterator[MakeClient]:
    """Clients on the stand-in's clock; each one stands for a server process."""
    made: list[WeChatClient] = []

    def make(database: Database | None = None, *, base: str = "", **kwargs: Any) -> WeChatClient:
        config = WeChatConfig(
            appid=APPID,
            secret=kwargs.pop("secret", SECRET),
            token="jinlin-test",
            api_base_url=base or wechat.base,
        )
        kwargs.setdefault("retry_base_delay", 0.001)
        kwargs.setdefault("peer_poll", 0.01)
        client = WeChatClient(config, database or db, clock=wechat.state.now, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def stored_token(db: Database) -> str | None:
    async with db.transaction() as session:
        row = await tokens.load(session=session, appid=APPID)
    return row.token if row else None


# --- the shared token -------------------------------------------------------------------


async def test_token_is_fetched_once_and_shared_between_processes(
    db: Database, db_url: str, wechat: Standin, make_client: MakeClient
) -> None:
    other_db = open_database(db_url)
    first, second = make_client(), make_client(other_db)
    wechat.state.interact(OPENID)
    await first.send_text(OPENID, "one")
    await second.send_text(OPENID, "two")
    assert wechat.state.token_fetches == 1
    assert [m.text for m in wechat.state.messages(OPENID)] == ["one", "two"]
    async with db.transaction() as session:
        row = await tokens.load(session=session, appid=APPID)
    assert row is not None and row.token and row.lease_owner is None
    await other_db.close()


async def test_concurrent_calls_refresh_once(
    db_url: str, wechat: Standin, make_client: MakeClient
) -> None:
    other_db = open_database(db_url)
    first, second = make_client(), make_client(other_db)
    calls = [c.get_user_info(f"o-{i}") for i in range(10) for c in (first, second)]
    infos = await asyncio.gather(*calls)
    assert all(info["subscribe"] == 1 for info in infos)
    assert wechat.state.token_fetches == 1
    await other_db.close()


async def test_token_is_refreshed_within_the_margin_before_expiry(
    db: Database, wechat: Standin, make_client: MakeClient
) -> None:
    client = make_client()
    await client.get_user_info(OPENID)
    old = await stored_token(db)
    wechat.state.advance(7200 - 400)  # 400 s left, outside the 5-minute margin
    await client.get_user_info(OPENID)
    assert wechat.state.token_fetches == 1
    wechat.state.advance(150)  # 250 s left: inside the margin, still valid
    await client.get_user_info(OPENID)
    assert wechat.state.token_fetches == 2
    new = await stored_token(db)
    assert new and new != old
    await make_client().get_user_info(OPENID)  # another process uses the renewed token
    assert wechat.state.token_fetches == 2


async def test_token_replaced_elsewhere_is_refreshed_and_the_call_retried(
    db: Database, wechat: Standin, make_client: MakeClient
) -> None:
    client = make_client()
    await client.get_user_info(OPENID)
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    async with aiohttp.ClientSession() as http:
        forced = {**body, "force_refresh": True}
        async with http.post(wechat.base + STABLE, json=forced) as response:
            replacement = (await response.json())["access_token"]
    wechat.state.interact(OPENID)
    await client.send_text(OPENID, "after 40001")
    assert [m.text for m in wechat.state.messages(OPENID)] == ["after 40001"]
    assert wechat.state.calls[CUSTOM] == 2
    assert [b["force_refresh"] for b in wechat.state.bodies[STABLE]] == [False, True, False]
    assert await stored_token(db) == replacement


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
async def test_rejected_token_is_refreshed_once_then_forced(
    errcode: int, db: Database, wechat: Standin, make_client: MakeClient
) -> None:
    client = make_client()
    wechat.state.interact(OPENID)
    await client.send_text(OPENID, "first")
    old = await stored_token(db)
    wechat.state.fail_next(CUSTOM, errcode)
    await client.send_text(OPENID, "second")
    # stable_token hands back the same token, so the client forces a new one, once.
    assert [b["force_refresh"] for b in wechat.state.bodies[STABLE]] == [False, False, True]
    assert wechat.state.calls[CUSTOM] == 3
    assert [m.text for m in wechat.state.messages(OPENID)] == ["first", "second"]
    assert await stored_token(db) not in (None, old)


async def test_second_token_failure_raises_instead_of_looping(
    wechat: Standin, make_client: MakeClient
) -> None:
    wechat.state.interact(OPENID)
    wechat.state.fail_next(CUSTOM, 40001, times=5)
    with pytest.raises(WeChatAPIError) as caught:
        await make_client().send_text(OPENID, "never")
    assert caught.value.errcode == 40001
    assert wechat.state.calls[CUSTOM] == 2
    assert wechat.state.messages() == []


async def test_a_crashed_refresher_blocks_only_until_its_lease_ends(
    db: Database, wechat: Standin, make_client: MakeClient
) -> None:
    async with db.transaction() as session:
        assert await tokens.try_lease(
            session=session,
            appid=APPID,
            owner="ghost",
            now=wechat.state.now(),
            lease=timedelta(seconds=30),
        )
    call = asyncio.create_task(make_client().get_user_info(OPENID))
    await asyncio.sleep(0.2)
    assert not call.done() and wechat.state.token_fetches == 0
    wechat.state.advance(31)
    assert (await asyncio.wait_for(call, 5))["openid"] == OPENID
    assert wechat.state.token_fetches == 1


async def test_a_failed_fetch_gives_the_lease_back(
    db: Database, wechat: Standin, make_client: MakeClient
) -> None:
    for _ in range(2):  # the second process need not wait out a lease
        with pytest.raises(WeChatAPIError) as caught:
            await make_client(secret="wrong").get_user_info(OPENID)
        assert caught.value.errcode == 40125
    async with db.transaction() as session:
        row = await tokens.load(session=session, appid=APPID)
    assert row is not None and row.token is None and row.lease_owner is None


# --- errors and retries -----------------------------------------------------------------


async def test_system_busy_is_retried_with_exponential_backoff(
    wechat: Standin, make_client: MakeClient
) -> None:
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    client = make_client(retry_base_delay=0.5, busy_attempts=3, sleep=record)
    wechat.state.interact(OPENID)
    wechat.state.fail_next(CUSTOM, -1, times=2)
    await client.send_text(OPENID, "eventually")
    assert delays == [0.5, 1.0] and wechat.state.calls[CUSTOM] == 3
    assert len(wechat.state.messages(OPENID)) == 1

    wechat.state.fail_next(CUSTOM, -1, times=3)
    with pytest.raises(WeChatUnavailable) as caught:
        await client.send_text(OPENID, "never")
    assert caught.value.errcode == -1 and wechat.state.calls[CUSTOM] == 6


async def test_rate_limit_is_not_hammered(wechat: Standin, make_client: MakeClient) -> None:
    wechat.state.fail_next(CUSTOM, 45009)
    wechat.state.interact(OPENID)
    with pytest.raises(WeChatRateLimited) as caught:
        await make_client().send_text(OPENID, "hi")
    assert isinstance(caught.value, WeChatAPIError) and caught.value.errcode == 45009
    assert caught.value.retry_after == 60
    assert wechat.state.calls[CUSTOM] == 1


async def test_window_and_quota_surface_with_their_codes(
    wechat: Standin, make_client: MakeClient
) -> None:
    client = make_client()
    with pytest.raises(WeChatAPIError) as outside:
        await client.send_text(OPENID, "too late")
    assert outside.value.errcode == 45015 and not isinstance(outside.value, WeChatUnavailable)
    wechat.state.interact(OPENID)
    for i in range(5):
        await client.send_text(OPENID, f"n{i}")
    with pytest.raises(WeChatAPIError) as quota:
        await client.send_text(OPENID, "sixth")
    assert quota.value.errcode == 45047
    assert len(wechat.state.messages(OPENID)) == 5


async def test_closed_port_is_unavailable(db: Database, make_client: MakeClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base=f"http://127.0.0.1:{port}")
    with pytest.raises(WeChatUnavailable) as caught:
        await client.send_text(OPENID, "hi")
    assert caught.value.errcode == -2
    async with db.transaction() as session:
        row = await tokens.load(session=session, appid=APPID)
    assert row is not None and row.lease_owner is None


async def test_an_html_error_page_is_unavailable(wechat: Standin, make_client: MakeClient) -> None:
    wechat.state.interact(OPENID)
    wechat.state.fail_next(CUSTOM, 0, http_status=502)
    with pytest.raises(WeChatUnavailable) as caught:
        await make_client().send_text(OPENID, "hi")
    assert caught.value.errcode == -2 and "502" in caught.value.errmsg


async def test_logs_hold_no_secret_token_or_full_openid(
    db: Database, wechat: Standin, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    wechat.state.fail_next(CUSTOM, 40001, times=2)
    with pytest.raises(WeChatAPIError):
        await client.send_text(OPENID, "电话 13812345678")
    with pytest.raises(WeChatAPIError):
        await client.send_text(OPENID, "outside the window")
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("bot", "storage"))]
    assert ours, "the failures should have been logged"
    text = "\n".join(ours)
    token = await stored_token(db)
    assert token and token not in text
    assert SECRET not in text and OPENID not in text and "13812345678" not in text
    assert OPENID[:4] in text


# --- endpoints --------------------------------------------------------------------------


async def test_tags_are_batched_by_fifty(wechat: Standin, make_client: MakeClient) -> None:
    client = make_client()
    tag_id = await client.create_tag("志愿者")
    openids = [f"o-{i:03}" for i in range(120)]
    await client.tag_users(tag_id, openids)
    sizes = [
        len(b["openid_list"]) for b in wechat.state.bodies["/cgi-bin/tags/members/batchtagging"]
    ]
    assert sizes == [50, 50, 20]
    assert await client.get_tags() == [{"id": tag_id, "name": "志愿者", "count": 120}]
    await client.untag_users(tag_id, openids[:60])
    assert wechat.state.calls["/cgi-bin/tags/members/batchuntagging"] == 2
    assert wechat.state.tags[tag_id].openids == set(openids[60:])


async def test_mass_send_to_tag_uses_tag_filter_and_clientmsgid(
    wechat: Standin, make_client: MakeClient
) -> None:
    client = make_client()
    tag_id = await client.create_tag("3号楼")
    await client.tag_users(tag_id, ["o-a", "o-b"])
    answer = await client.mass_send_to_tag(tag_id, "明天停水", "notice-7-batch-0")
    assert isinstance(answer["msg_id"], int)
    [body] = wechat.state.bodies["/cgi-bin/message/mass/sendall"]
    assert body["filter"] == {"is_to_all": False, "tag_id": tag_id}
    assert body["clientmsgid"] == "notice-7-batch-0" and body["text"] == {"content": "明天停水"}
    with pytest.raises(WeChatAPIError) as repeat:
        await client.mass_send_to_tag(tag_id, "明天停水", "notice-7-batch-0")
    assert repeat.value.errcode == 45065
    assert sorted(m.openid for m in wechat.state.messages()) == ["o-a", "o-b"]


async def test_mass_send_to_openids_needs_two(wechat: Standin, make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(InvalidInput):
        await client.mass_send_to_openids(["o-a"], "hi", "n-1")
    assert wechat.state.calls["/cgi-bin/message/mass/send"] == 0
    await client.mass_send_to_openids(["o-a", "o-b"], "hi", "n-2")
    [body] = wechat.state.bodies["/cgi-bin/message/mass/send"]
    assert body["touser"] == ["o-a", "o-b"] and body["clientmsgid"] == "n-2"
    assert [(m.kind, m.openid) for m in wechat.state.messages()] == [
        ("mass", "o-a"),
        ("mass", "o-b"),
    ]


async def test_template_message_returns_its_msgid(wechat: Standin, make_client: MakeClient) -> None:
    client = make_client()
    wechat.state.add_template("TPL-NOTICE")
    msgid = await client.send_template(
        OPENID, "TPL-NOTICE", {"first": "您好", "remark": {"value": "谢谢", "color": "#173177"}}
    )
    assert isinstance(msgid, int)
    [message] = wechat.state.messages(OPENID)
    assert message.data == {
        "first": {"value": "您好"},
        "remark": {"value": "谢谢", "color": "#173177"},
    }
    with pytest.raises(WeChatAPIError) as unknown:
        await client.send_template(OPENID, "TPL-OTHER", {})
    assert unknown.value.errcode == 40037


async def test_menu_and_user_info(wechat: Standin, make_client: MakeClient) -> None:
    client = make_client()
    buttons = [{"type": "click", "name": "我要求助", "key": "HELP"}]
    await client.create_menu(buttons)
    assert wechat.state.menu == buttons
    wechat.state.follow(OPENID)
    assert (await client.get_user_info(OPENID))["subscribe"] == 1
    wechat.state.unfollow(OPENID)
    assert (await client.get_user_info(OPENID))["subscribe"] == 0
    with pytest.raises(WeChatAPIError) as gone:
        await client.send_text(OPENID, "hi")
    assert gone.value.errcode == 43004


# --- the token table itself --------------------------------------------------------------


async def test_one_lease_at_a_time_and_store_releases_it(db: Database, wechat: Standin) -> None:
    now, lease = wechat.state.now(), timedelta(seconds=30)

    async def attempt(owner: str) -> bool:
        async with db.transaction() as session:
            return await tokens.try_lease(
                session=session, appid=APPID, owner=owner, now=now, lease=lease
            )

    results = await asyncio.gather(*(attempt(f"p{i}") for i in range(6)))
    assert results.count(True) == 1
    holder = f"p{results.index(True)}"
    assert not await attempt("late")
    async with db.transaction() as session:
        await tokens.store(
            session=session, appid=APPID, token="T1", expires_at=now + lease, owner=holder
        )
    assert await attempt("late")


async def test_discard_forgets_only_the_stored_token(db: Database, wechat: Standin) -> None:
    expires = wechat.state.now() + timedelta(hours=2)
    async with db.transaction() as session:
        await tokens.store(session=session, appid=APPID, token="T2", expires_at=expires, owner="p")
        assert not await tokens.discard(session=session, appid=APPID, token="T1")
        assert await stored_token_in(session) == "T2"
        assert await tokens.discard(session=session, appid=APPID, token="T2")
        assert await stored_token_in(session) is None


async def stored_token_in(session: Any) -> str | None:
    row = await tokens.load(session=session, appid=APPID)
    return row.token if row else None
