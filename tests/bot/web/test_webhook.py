"""The /wechat endpoint end to end over loopback: modes, dedupe, bad input, the deadline."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.dispatch.dispatcher import Dispatcher
from bot.web.keys import DATABASE
from bot.wechat.protocol import message_xml, sign
from storage import migrate
from storage.db import Database, open_database
from storage.models import OutboxMessage, ProcessedMessage, User
from tests.conftest import make_config
from tests.servers import jinlin

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def config_for(db_url: str, mode: str = "plain", **server: Any) -> Any:
    wechat = {"mode": mode, "encoding_aes_key": AES_KEY if mode != "plain" else ""}
    return make_config(database={"url": db_url}, wechat=wechat, server=server)


async def count(db: Database, model: Any) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
async def test_text_gets_a_passive_reply_in_every_mode(
    sqlite_url: str, parser: Any, mode: str
) -> None:
    async with jinlin(config_for(sqlite_url, mode), parser) as server:
        answer = await server.wechat.text("oResident1", "你好")
        assert answer.status == 200
        assert answer.content and "您好" in answer.content
        assert ("<Encrypt>" in answer.body) == (mode != "plain")


async def test_url_verification_echoes_only_with_a_good_signature(
    sqlite_url: str, parser: Any
) -> None:
    config = config_for(sqlite_url)
    async with jinlin(config, parser) as server:
        stamp = str(int(time.time()))
        good = {
            "timestamp": stamp,
            "nonce": "9",
            "echostr": "hello123",
            "signature": sign(config.wechat.token, stamp, "9"),
        }
        async with server.http.get(f"{server.url}/wechat", params=good) as response:
            assert (response.status, await response.text()) == (200, "hello123")
        bad = {**good, "signature": "0" * 40}
        async with server.http.get(f"{server.url}/wechat", params=bad) as response:
            assert response.status == 403


async def test_redelivered_copies_have_one_effect_and_the_same_reply(
    db_url: str, parser: Any
) -> None:
    async with jinlin(config_for(db_url), parser) as server:
        xml = server.wechat.text_xml("oResident2", "你好", msg_id=424242)
        answers = await asyncio.gather(*(server.wechat.post(xml) for _ in range(4)))
        later = await server.wechat.post(xml)
        db = server.app[DATABASE]
        assert {a.content for a in [*answers, later]} == {answers[0].content}
        assert answers[0].content
        assert await count(db, ProcessedMessage) == 1
        assert await count(db, User) == 1


async def test_copies_after_a_restart_and_on_another_process_get_the_same_reply(
    db_url: str, parser: Any
) -> None:
    config = config_for(db_url)
    async with jinlin(config, parser) as first:
        xml = first.wechat.text_xml("oResident3", "在吗", msg_id=777)
        original = await first.wechat.post(xml)
    async with jinlin(config, parser) as restarted, jinlin(config, parser) as other:
        copies = await asyncio.gather(restarted.wechat.post(xml), other.wechat.post(xml))
        assert [c.content for c in copies] == [original.content, original.content]
        assert await count(restarted.app[DATABASE], ProcessedMessage) == 1


async def test_same_msgid_from_two_users_are_two_messages(sqlite_url: str, parser: Any) -> None:
    async with jinlin(config_for(sqlite_url), parser) as server:
        await server.wechat.text("oA", "你好", msg_id=1)
        await server.wechat.text("oB", "你好", msg_id=1)
        assert await count(server.app[DATABASE], ProcessedMessage) == 2


async def test_wrong_signature_is_403_and_stores_nothing(sqlite_url: str, parser: Any) -> None:
    async with jinlin(config_for(sqlite_url), parser) as server:
        query, body = server.wechat.signed(server.wechat.text_xml("oX", "你好"))
        query["signature"] = "f" * 40
        async with server.http.post(f"{server.url}/wechat", params=query, data=body) as response:
            assert response.status == 403
        async with server.http.post(f"{server.url}/wechat", data=body) as response:
            assert response.status == 403
        assert await count(server.app[DATABASE], ProcessedMessage) == 0
        assert await count(server.app[DATABASE], User) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("<xml><MsgType>text", 400),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>', 400),
        ("<xml><FromUserName>u</FromUserName></xml>", 400),
    ],
    ids=["truncated", "entity", "no-type"],
)
async def test_malformed_bodies_are_400(
    sqlite_url: str, parser: Any, body: str, status: int
) -> None:
    async with jinlin(config_for(sqlite_url), parser) as server:
        query, _ = server.wechat.signed("")
        async with server.http.post(f"{server.url}/wechat", params=query, data=body) as response:
            assert response.status == status
        # The server is still fine afterwards.
        assert (await server.wechat.text("oAfter", "你好")).content


async def test_oversized_body_is_413(sqlite_url: str, parser: Any) -> None:
    async with jinlin(config_for(sqlite_url, max_body_bytes=4096), parser) as server:
        xml = server.wechat.text_xml("oBig", "帮" * 5000)
        answer = await server.wechat.post(xml)
        assert answer.status == 413
        assert await count(server.app[DATABASE], ProcessedMessage) == 0


async def test_unknown_types_and_delivery_reports_get_success(sqlite_url: str, parser: Any) -> None:
    async with jinlin(config_for(sqlite_url), parser) as server:
        odd = message_xml(
            {
                "ToUserName": "gh",
                "FromUserName": "oQ",
                "CreateTime": 1,
                "MsgType": "miniprogrampage",
                "MsgId": 5,
            }
        )
        assert (await server.wechat.post(odd)).body == "success"
        report = server.wechat.event_xml("oQ", "TEMPLATESENDJOBFINISH")
        assert (await server.wechat.post(report)).body == "success"
        assert await count(server.app[DATABASE], ProcessedMessage) == 0


async def test_voice_recognition_is_handled_as_text(sqlite_url: str, parser: Any) -> None:
    async with jinlin(config_for(sqlite_url), parser) as server:
        voice = message_xml(
            {
                "ToUserName": "gh",
                "FromUserName": "oV",
                "CreateTime": 1,
                "MsgType": "voice",
                "MediaId": "m1",
                "Format": "amr",
                "Recognition": "你好",
                "MsgId": 99,
            }
        )
        answer = await server.wechat.post(voice)
        assert answer.content and "您好" in answer.content


async def test_subscribe_welcomes_and_unsubscribe_is_recorded(sqlite_url: str, parser: Any) -> None:
    async with jinlin(config_for(sqlite_url), parser) as server:
        welcome = await server.wechat.post(server.wechat.event_xml("oF", "subscribe", created=100))
        assert welcome.content and "欢迎" in welcome.content
        bye = await server.wechat.post(server.wechat.event_xml("oF", "unsubscribe", created=101))
        assert bye.empty
        again = await server.wechat.post(server.wechat.event_xml("oF", "unsubscribe", created=101))
        assert again.empty
        async with server.app[DATABASE].transaction() as session:
            user = (await session.execute(select(User).where(User.openid == "oF"))).scalar_one()
            assert user.subscribed is False
        click = await server.wechat.post(
            server.wechat.event_xml("oF", "CLICK", key="HELP", created=102)
        )
        assert click.status == 200


async def test_slow_reply_answers_empty_in_time_and_goes_through_the_outbox(
    sqlite_url: str, parser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Dispatcher._route

    async def slow_route(self: Dispatcher, *args: Any) -> str:
        await asyncio.sleep(1.0)
        return await original(self, *args)

    monkeypatch.setattr(Dispatcher, "_route", slow_route)
    async with jinlin(config_for(sqlite_url, reply_deadline="200ms"), parser) as server:
        xml = server.wechat.text_xml("oSlow", "你好", msg_id=31337)
        started = time.monotonic()
        answer = await server.wechat.post(xml)
        assert answer.empty and time.monotonic() - started < 0.9
        db = server.app[DATABASE]
        for _ in range(50):
            if await count(db, OutboxMessage):
                break
            await asyncio.sleep(0.1)
        async with db.transaction() as session:
            queued = (await session.execute(select(OutboxMessage))).scalars().all()
            assert [(m.openid, "您好" in m.text) for m in queued] == [("oSlow", True)]
        # WeChat's retry of the same message must not get the reply a second time.
        assert (await server.wechat.post(xml)).empty


async def test_each_message_gets_its_own_deadline(
    sqlite_url: str, parser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One timer serves every deadline: a message arriving while it is armed for an earlier
    # one must still be answered by its own deadline, not the next round after it.
    original = Dispatcher._route

    async def route(self: Dispatcher, session: Any, job: Any, *args: Any) -> str:
        if job.inbound.text == "慢":
            await asyncio.sleep(1.5)
        return await original(self, session, job, *args)

    monkeypatch.setattr(Dispatcher, "_route", route)
    async with jinlin(config_for(sqlite_url, reply_deadline="400ms"), parser) as server:
        first = asyncio.ensure_future(server.wechat.text("oA", "你好"))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        slow = await server.wechat.text("oB", "慢")
        assert slow.empty and time.monotonic() - started < 0.9
        assert "您好" in ((await first).content or "")


async def test_healthz_reports_the_database_going_away(parser: Any) -> None:
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    name = f"jinlin_health_{int(time.time() * 1000)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = (
        PG_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
        + "/"
        + name
    )
    db = open_database(url)
    await migrate.upgrade(db)
    await db.close()
    async with jinlin(config_for(url), parser) as server:
        async with server.http.get(f"{server.url}/healthz") as response:
            assert response.status == 200 and (await response.json())["database"] is True
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        async with server.http.get(f"{server.url}/healthz") as response:
            assert response.status == 503 and (await response.json())["database"] is False
