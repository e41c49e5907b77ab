"""The WeChat stand-in keeps WeChat's own rules, spoken to over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.simulator.standin import STANDIN, StandinState, create_standin

APPID, SECRET = "wx1234567890abcdef", "standin-secret"
CUSTOM = "/cgi-bin/message/custom/send"
HOUR = 3600


@dataclass
class Api:
    """A bare HTTP caller, so the stand-in is tested apart from Jinlin's client."""

    http: aiohttp.ClientSession
    base: str
    state: StandinState
    token: str = ""

    async def get(self, path: str, **query: str) -> dict[str, Any]:
        if self.token:
            query.setdefault("access_token", self.token)
        async with self.http.get(self.base + path, params=query) as response:
            assert response.status == 200
            return dict(await response.json())

    async def post(self, path: str, body: dict[str, Any], **query: str) -> dict[str, Any]:
        if self.token:
            query.setdefault("access_token", self.token)
        async with self.http.post(self.base + path, json=body, params=query) as response:
            assert response.status == 200
            return dict(await response.json())

    async def stable(self, *, force: bool = False, secret: str = SECRET) -> dict[str, Any]:
        body = {"grant_type": "client_credential", "appid": APPID, "secret": secret}
        return await self.post("/cgi-bin/stable_token", {**body, "force_refresh": force})

    async def later(self, seconds: float) -> None:
        """Let time pass, then take a valid token again (the old one may have expired)."""
        self.state.advance(seconds)
        self.token = (await self.stable())["access_token"]

    async def text(self, openid: str, content: str = "hi") -> int:
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        return int((await self.post(CUSTOM, body)).get("errcode", 0))


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    app = create_standin(APPID, SECRET)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        caller = Api(http, f"http://127.0.0.1:{server.port}", app[STANDIN])
        caller.token = (await caller.stable())["access_token"]
        yield caller
    await server.close()


async def test_wrong_credentials_are_refused(api: Api) -> None:
    assert (await api.stable(secret="wrong"))["errcode"] == 40125
    query = {"grant_type": "client_credential", "appid": "wx0000000000000000", "secret": SECRET}
    api.token = ""
    assert (await api.get("/cgi-bin/token", **query))["errcode"] == 40013


async def test_stable_token_repeats_until_forced(api: Api) -> None:
    again = await api.stable()
    assert again["access_token"] == api.token and again["expires_in"] == 7200
    forced = await api.stable(force=True)
    assert forced["access_token"] != api.token
    # Forcing invalidates the previous token at once.
    assert await api.text("o-user") == 40001
    assert api.state.token_fetches == 3


async def test_stable_token_is_renewed_in_its_last_minutes_with_overlap(api: Api) -> None:
    api.state.interact("o-user")
    api.state.advance(7200 - 240)
    renewed = await api.stable()
    assert renewed["access_token"] != api.token and renewed["expires_in"] == 7200
    assert await api.text("o-user") == 0  # the old token runs out its last minutes
    api.state.advance(241)
    assert await api.text("o-user") == 42001
    api.token = renewed["access_token"]
    assert await api.text("o-user") == 0


async def test_plain_token_supersedes_the_old_after_five_minutes(api: Api) -> None:
    api.state.interact("o-user")
    query = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    api.token = ""
    first = (await api.get("/cgi-bin/token", **query))["access_token"]
    second = (await api.get("/cgi-bin/token", **query))["access_token"]
    assert first != second
    api.token = first
    assert await api.text("o-user") == 0
    api.state.advance(301)
    assert await api.text("o-user") == 40001
    api.token = second
    assert await api.text("o-user") == 0


async def test_token_expiry_is_settable_and_checked(api: Api) -> None:
    api.state.interact("o-user")
    api.state.expires_in = 60
    api.token = (await api.stable(force=True))["access_token"]
    assert (await api.stable())["expires_in"] == 60  # inside its last 5 minutes: renewed
    api.state.advance(61)
    assert await api.text("o-user") == 42001


async def test_missing_and_unknown_tokens(api: Api) -> None:
    body = {"touser": "o-user", "msgtype": "text", "text": {"content": "hi"}}
    async with api.http.post(api.base + CUSTOM, json=body) as response:
        assert (await response.json())["errcode"] == 41001
    assert (await api.post(CUSTOM, body, access_token="nonsense"))["errcode"] == 40001


async def test_custom_message_needs_the_48_hour_window(api: Api) -> None:
    assert await api.text("o-user") == 45015
    api.state.interact("o-user")
    assert await api.text("o-user", "你好") == 0
    await api.later(48 * HOUR + 1)
    assert await api.text("o-user") == 45015
    delivered = api.state.messages("o-user")
    assert [(m.kind, m.text) for m in delivered] == [("custom", "你好")]


async def test_quota_is_five_after_a_message_and_three_a_minute_after_a_click(api: Api) -> None:
    api.state.interact("o-msg", kind="message")
    assert [await api.text("o-msg") for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    api.state.interact("o-msg", kind="message")  # a new message renews the quota
    assert await api.text("o-msg") == 0

    api.state.interact("o-click", kind="click")
    assert [await api.text("o-click") for _ in range(4)] == [0, 0, 0, 45047]
    api.state.interact("o-click", kind="click")
    api.state.advance(61)
    assert await api.text("o-click") == 45047


async def test_unfollowed_users_cannot_be_reached(api: Api) -> None:
    api.state.follow("o-fan")
    assert await api.text("o-fan") == 0  # following opened the window
    assert await api.text("o-stranger") == 43004  # the roster is known now
    api.state.unfollow("o-fan")
    assert await api.text("o-fan") == 43004
    info = await api.get("/cgi-bin/user/info", openid="o-fan")
    assert info["subscribe"] == 0


async def test_template_needs_a_known_template_id(api: Api) -> None:
    body = {"touser": "o-user", "template_id": "TPL", "data": {"first": {"value": "x"}}}
    assert (await api.post("/cgi-bin/message/template/send", body))["errcode"] == 40037
    api.state.add_template("TPL")
    answer = await api.post("/cgi-bin/message/template/send", body)
    assert answer["errcode"] == 0 and isinstance(answer["msgid"], int)
    [message] = api.state.messages("o-user")
    assert message.kind == "template" and message.data == {"first": {"value": "x"}}


async def test_mass_send_needs_two_openids_and_dedups_clientmsgid(api: Api) -> None:
    path = "/cgi-bin/message/mass/send"
    body: dict[str, Any] = {"msgtype": "text", "text": {"content": "通知"}, "clientmsgid": "n1"}
    assert (await api.post(path, {**body, "touser": ["o-a"]}))["errcode"] == 40130
    first = await api.post(path, {**body, "touser": ["o-a", "o-b"]})
    assert first["errcode"] == 0
    repeat = await api.post(path, {**body, "touser": ["o-a", "o-b"]})
    assert repeat["errcode"] == 45065 and repeat["msg_id"] == first["msg_id"]
    assert len(api.state.messages()) == 2
    await api.later(24 * HOUR + 1)
    assert (await api.post(path, {**body, "touser": ["o-a", "o-b"]}))["errcode"] == 0
    assert len(api.state.messages()) == 4


async def test_mass_send_keeps_the_minute_day_and_monthly_per_user_quotas(api: Api) -> None:
    path = "/cgi-bin/message/mass/send"
    body: dict[str, Any] = {"msgtype": "text", "text": {"content": "通知"}}
    for n in range(60):
        answer = await api.post(path, {**body, "touser": ["o-a", f"o-{n}"], "clientmsgid": f"m{n}"})
        assert answer["errcode"] == 0
    late = await api.post(path, {**body, "touser": ["o-x", "o-y"], "clientmsgid": "m60"})
    assert late["errcode"] == 45009  # 60 calls a minute
    assert len(api.state.messages("o-a")) == 4  # the rest were accepted but left o-a out
    await api.later(61)
    assert (await api.post(path, {**body, "touser": ["o-x", "o-y"]}))["errcode"] == 0
    api.state.mass_daily_limit = 61
    assert (await api.post(path, {**body, "touser": ["o-x", "o-y"]}))["errcode"] == 45009


async def test_a_tags_members_come_in_pages_after_next_openid(api: Api) -> None:
    tag = (await api.post("/cgi-bin/tags/create", {"tag": {"name": "党员"}}))["tag"]
    api.state.tags[tag["id"]].openids.update(f"o-{n:05}" for n in range(10_002))
    first = await api.post("/cgi-bin/user/tag/get", {"tagid": tag["id"], "next_openid": ""})
    assert first["count"] == 10_000 and first["next_openid"] == "o-09999"
    rest = await api.post("/cgi-bin/user/tag/get", {"tagid": tag["id"], "next_openid": "o-09999"})
    assert rest["data"]["openid"] == ["o-10000", "o-10001"]
    done = await api.post("/cgi-bin/user/tag/get", {"tagid": tag["id"], "next_openid": "o-10001"})
    assert done["count"] == 0 and "openid" not in done["data"]
    assert (await api.post("/cgi-bin/user/tag/get", {"tagid": 999}))["errcode"] == 45159


async def test_sendall_by_tag_reaches_the_tag_only(api: Api) -> None:
    tag = (await api.post("/cgi-bin/tags/create", {"tag": {"name": "志愿者"}}))["tag"]
    body = {"tagid": tag["id"], "openid_list": ["o-a", "o-b"]}
    assert (await api.post("/cgi-bin/tags/members/batchtagging", body))["errcode"] == 0
    send = {"msgtype": "text", "text": {"content": "集合"}, "clientmsgid": "t1"}
    old_style = {**send, "filter": {"is_to_all": False, "group_id": tag["id"]}}
    assert (await api.post("/cgi-bin/message/mass/sendall", old_style))["errcode"] == 45159
    by_tag = {**send, "filter": {"is_to_all": False, "tag_id": tag["id"]}}
    assert (await api.post("/cgi-bin/message/mass/sendall", by_tag))["errcode"] == 0
    assert sorted(m.openid for m in api.state.messages()) == ["o-a", "o-b"]


async def test_tags_limit_batches_to_fifty_and_names_to_unique(api: Api) -> None:
    tag = (await api.post("/cgi-bin/tags/create", {"tag": {"name": "楼长"}}))["tag"]
    assert (await api.post("/cgi-bin/tags/create", {"tag": {"name": "楼长"}}))["errcode"] == 45157
    too_many = {"tagid": tag["id"], "openid_list": [f"o-{i}" for i in range(51)]}
    assert (await api.post("/cgi-bin/tags/members/batchtagging", too_many))["errcode"] == 40032
    unknown = {"tagid": 999, "openid_list": ["o-1"]}
    assert (await api.post("/cgi-bin/tags/members/batchtagging", unknown))["errcode"] == 45159
    tags = (await api.get("/cgi-bin/tags/get"))["tags"]
    assert tags == [{"id": tag["id"], "name": "楼长", "count": 0}]


async def test_menu_is_stored_and_checked(api: Api) -> None:
    buttons = [{"type": "click", "name": "求助", "key": "HELP"}]
    assert (await api.post("/cgi-bin/menu/create", {"button": buttons}))["errcode"] == 0
    assert api.state.menu == buttons
    four = {"button": buttons * 4}
    assert (await api.post("/cgi-bin/menu/create", four))["errcode"] == 40016


async def test_injected_faults_come_first_then_normal_service(api: Api) -> None:
    api.state.interact("o-user")
    api.state.fail_next(CUSTOM, -1, times=2)
    assert [await api.text("o-user") for _ in range(3)] == [-1, -1, 0]
    api.state.fail_next(CUSTOM, 0, http_status=502)
    body = {"touser": "o-user", "msgtype": "text", "text": {"content": "hi"}}
    async with api.http.post(api.base + CUSTOM, json=body, params={"access_token": api.token}) as r:
        assert r.status == 502 and "json" not in r.content_type
    assert api.state.calls[CUSTOM] == 4
    assert len(api.state.bodies[CUSTOM]) == 4


def test_real_time_clock_moves_and_can_still_be_advanced() -> None:
    frozen = StandinState(APPID, SECRET)
    assert frozen.now() == frozen.now()
    live = StandinState(APPID, SECRET, real_time=True)
    before = live.now()
    live.advance(3600)
    assert (live.now() - before).total_seconds() >= 3600


async def test_parametric_qr_codes_as_documented(api: Api) -> None:
    create = "/cgi-bin/qrcode/create"
    permanent = await api.post(
        create,
        {
            "action_name": "QR_LIMIT_STR_SCENE",
            "action_info": {"scene": {"scene_str": "compound:1"}},
        },
    )
    assert set(permanent) == {"ticket", "url"}  # a permanent code never expires
    assert permanent["url"].startswith("http://weixin.qq.com/q/")
    assert api.state.qrcodes[permanent["url"]] == "compound:1"
    temporary = await api.post(
        create,
        {
            "expire_seconds": 9_999_999,
            "action_name": "QR_SCENE",
            "action_info": {"scene": {"scene_id": 7}},
        },
    )
    assert set(temporary) == {"ticket", "url", "expire_seconds"}
    assert temporary["expire_seconds"] == 2_592_000
    for body, errcode in [
        ({"action_name": "QR_FOREVER", "action_info": {"scene": {"scene_str": "x"}}}, 40052),
        ({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": ""}}}, 40053),
        (
            {
                "action_name": "QR_LIMIT_STR_SCENE",
                "action_info": {"scene": {"scene_str": "x" * 65}},
            },
            40053,
        ),
        ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100_001}}}, 40053),
        ({"action_name": "QR_LIMIT_SCENE", "action_info": {}}, 40053),
    ]:
        assert (await api.post(create, body))["errcode"] == errcode
