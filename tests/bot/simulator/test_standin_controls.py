"""The stand-in's controls beyond WeChat's own API: its state across a restart, and errors
injected over HTTP by a developer."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.simulator.standin import StandinState, Window
from tests.bot.simulator.test_standin import APPID, CUSTOM, SECRET, Api, api

__all__ = ["api"]  # the fixture, shared with the stand-in's own tests

MASS = "/cgi-bin/message/mass/send"


def _mass(clientmsgid: str) -> dict[str, Any]:
    return {
        "touser": ["oA", "oB"],
        "msgtype": "text",
        "text": {"content": "通知"},
        "clientmsgid": clientmsgid,
    }


async def test_a_restored_stand_in_keeps_windows_quotas_follows_tags_menu_and_tokens(
    api: Api,
) -> None:
    api.state.follow("oA")
    api.state.follow("oB")
    api.state.unfollow("oGone")
    api.state.interact("oA")
    assert await api.text("oA") == 0
    tag = (await api.post("/cgi-bin/tags/create", {"tag": {"name": "志愿者"}}))["tag"]["id"]
    body = {"openid_list": ["oA"], "tagid": tag}
    await api.post("/cgi-bin/tags/members/batchtagging", body)
    await api.post(
        "/cgi-bin/menu/create", {"button": [{"type": "click", "name": "帮助", "key": "H"}]}
    )
    api.state.add_template("T1")
    sent = await api.post(MASS, _mass("notice-1"))

    saved = json.loads(json.dumps(api.state.snapshot()))  # through JSON, as the file holds it
    again = StandinState(APPID, SECRET)
    again.restore(saved)
    window = again.window_of("oA")
    assert window is not None and (window.kind, window.sent) == ("message", 1)
    assert again.is_following("oA") and not again.is_following("oGone")
    assert not again.is_following("oNeverSeen")  # the roster is known, as before
    assert again.tags[tag].openids == {"oA"} and again.menu == api.state.menu
    assert again.templates == {"T1"}
    assert again.check_token(api.token) == 0  # Jinlin's stored token still works
    repeat = again.mass_send(_mass("notice-1"), {})
    assert (repeat["errcode"], repeat["msg_id"]) == (45065, sent["msg_id"])
    assert again.mass_send(_mass("notice-2"), {})["msg_id"] != sent["msg_id"]


async def test_restore_refuses_what_is_not_a_snapshot() -> None:
    state = StandinState(APPID, SECRET)
    for bad in ({}, {"templates": 3}, {**StandinState(APPID, SECRET).snapshot(), "last": 1}):
        try:
            state.restore(bad)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        raise AssertionError(f"restored {bad!r}")


async def test_a_window_set_back_closes_customer_service(api: Api) -> None:
    api.state.interact("oA")
    window = api.state.window_of("oA")
    assert window is not None
    api.state.set_window("oA", Window("message", window.at - timedelta(hours=49), 0))
    assert await api.text("oA") == 45015
    api.state.set_window("oA", Window("message", window.at, 5))
    assert await api.text("oA") == 45047


async def test_errors_injected_over_http_answer_the_next_calls(api: Api) -> None:
    api.state.interact("oA")
    for code in (45015, -1):
        answer = await api.post("/standin/faults", {"path": CUSTOM, "errcode": code})
    assert answer["pending"] == [
        {"path": CUSTOM, "errcode": 45015},
        {"path": CUSTOM, "errcode": -1},
    ]
    assert [await api.text("oA") for _ in range(3)] == [45015, -1, 0]
    assert (await api.get("/standin/faults"))["pending"] == []


async def test_a_bad_fault_request_is_refused_with_one_line(api: Api) -> None:
    for body, reason in (
        ({"errcode": 45015}, "expected JSON"),
        ({"path": "/cgi-bin/nothing", "errcode": 1}, "no such API path"),
        ({"path": CUSTOM, "errcode": "x"}, "expected JSON"),
        ({"path": CUSTOM, "errcode": 1, "times": 0}, "times must be"),
    ):
        async with api.http.post(f"{api.base}/standin/faults", json=body) as response:
            assert response.status == 400
            assert reason in (await response.json())["error"]
    assert api.state.pending_faults() == []
