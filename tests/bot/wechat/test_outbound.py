"""Outbox delivery against the WeChat stand-in on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlmodel import col

from bot.simulator.standin import STANDIN, StandinState, create_standin
from bot.wechat.client import WeChatClient
from bot.wechat.outbound import PACE, Deliverer
from storage import delivery, outbox, users
from storage.db import Database, open_database
from storage.models import OutboxMessage, User
from storage.redact import mask
from tests.conftest import make_config
from tests.servers import serving

APPID, SECRET, TEMPLATE = "wx1234567890abcdef", "delivery-test-secret", "TPL-NOTICE"
CUSTOM, TEMPLATE_SEND = "/cgi-bin/message/custom/send", "/cgi-bin/message/template/send"
ALICE, BOB = "oAliceAbCdEfGhIjKlMnOpQrSt01", "oBobAbCdEfGhIjKlMnOpQrStUv02"
LONG = "志愿者王师傅已接下您的求助#12（买菜），预计下午三点上门，请保持电话畅通。"


async def no_sleep(_seconds: float) -> None:
    """The client's pause between busy retries, skipped."""


@dataclass
class Harness:
    """The stand-in's state, a database, and a factory of Deliverers (one per "process")."""

    db: Database
    db_url: str
    state: StandinState
    base: str
    clients: list[WeChatClient] = field(default_factory=list)
    extra_dbs: list[Database] = field(default_factory=list)

    def deliverer(
        self,
        *,
        template: bool = False,
        poll: float = 3600,
        db: Database | None = None,
        client_clock: Callable[[], datetime] | None = None,
        **kwargs: Any,
    ) -> Deliverer:
        config = make_config(
            wechat={
                "appid": APPID,
                "secret": SECRET,
                "api_base_url": self.base,
                "template_id": TEMPLATE if template else "",
            },
            followups={"poll_interval": poll},
        )
        database = db or self.db
        client = WeChatClient(
            config.wechat,
            database,
            clock=client_clock or self.state.now,
            retry_base_delay=0.001,
            peer_poll=0.01,
            sleep=no_sleep,
        )
        self.clients.append(client)
        return Deliverer(database, client, config, clock=self.state.now, **kwargs)

    def other_database(self) -> Database:
        """A second connection pool, standing for another server process."""
        database = open_database(self.db_url)
        self.extra_dbs.append(database)
        return database

    async def interact(self, openid: str, kind: str = "message") -> None:
        """The user writes (or clicks): recorded by our webhook and known to WeChat."""
        async with self.db.transaction() as session:
            await users.touch(session=session, arrivals={openid: kind}, at=self.state.now())
        self.state.interact(openid, kind)

    async def queue(self, openid: str, *texts: str) -> None:
        """Messages queued by a handler's transaction."""
        async with self.db.transaction() as session:
            for text in texts:
                await outbox.enqueue(session=session, openid=openid, text=text)

    async def rows(self, openid: str) -> list[OutboxMessage]:
        async with self.db.transaction() as session:
            found = await session.scalars(
                select(OutboxMessage)
                .where(col(OutboxMessage.openid) == openid)
                .order_by(col(OutboxMessage.id))
            )
            return list(found)

    async def user(self, openid: str) -> User:
        async with self.db.transaction() as session:
            return await users.get(session=session, openid=openid)

    def texts(self, openid: str, kind: str = "custom") -> list[str | None]:
        return [m.text for m in self.state.messages(openid) if m.kind == kind]


@pytest.fixture
async def wechat(db: Database, db_url: str) -> AsyncIterator[Harness]:
    # The stand-in's clock follows real time, as the outbox's own timestamps do; tests move it on.
    app = create_standin(APPID, SECRET, real_time=True)
    app[STANDIN].add_template(TEMPLATE)
    async with serving(app) as base:
        harness = Harness(db, db_url, app[STANDIN], base)
        yield harness
        for client in harness.clients:
            await client.close()
        for database in harness.extra_dbs:
            await database.close()


async def until(check: Callable[[], bool]) -> None:
    """Wait (up to 3 s) for a background effect."""
    for _ in range(300):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the background loop did not get there in time")


# --- the window, merging and the template --------------------------------------------------


async def test_a_message_inside_the_window_goes_by_customer_service(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, LONG)
    assert await wechat.deliverer().run_once() == 1
    assert wechat.texts(ALICE) == [LONG]
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.via, row.attempts) == ("sent", "custom", 0)
    assert (await wechat.user(ALICE)).cs_sent_since_interaction == 1


async def test_three_queued_messages_arrive_as_one(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    await wechat.interact(BOB)
    await wechat.queue(ALICE, "第一条")
    await wechat.queue(BOB, "给 Bob 的")
    await wechat.queue(ALICE, "第二条", "第三条")
    assert await wechat.deliverer().run_once() == 4
    assert wechat.texts(ALICE) == ["第一条\n\n第二条\n\n第三条"]
    assert wechat.texts(BOB) == ["给 Bob 的"]
    assert wechat.state.calls[CUSTOM] == 2
    assert (await wechat.user(ALICE)).cs_sent_since_interaction == 1


async def test_merging_keeps_each_message_under_the_length_cap(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    parts = [c * 700 for c in "甲乙丙"]
    await wechat.queue(ALICE, *parts)
    assert await wechat.deliverer(merge_limit=1500).run_once() == 3
    assert wechat.texts(ALICE) == [f"{parts[0]}\n\n{parts[1]}", parts[2]]


async def test_outside_the_window_a_template_announces_and_a_reply_brings_the_text(
    wechat: Harness,
) -> None:
    await wechat.interact(ALICE)
    wechat.state.advance(49 * 3600)
    await wechat.queue(ALICE, LONG)
    deliverer = wechat.deliverer(template=True)
    assert await deliverer.run_once() == 0  # announced, not yet delivered whole
    [announced] = wechat.state.messages(ALICE)
    assert announced.kind == "template" and announced.data is not None
    shown = announced.data["keyword1"]["value"]
    assert len(shown) == 20 and shown.endswith("…") and LONG.startswith(shown[:-1])
    assert announced.data["first"] == {"value": "您有一条新消息"}
    assert announced.data["remark"] == {"value": "回复公众号查看详情"}
    assert wechat.state.calls[CUSTOM] == 0  # the database said the window was closed
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.via) == ("pending", "template")

    assert await deliverer.run_once() == 0
    assert wechat.state.calls[TEMPLATE_SEND] == 1  # announced once, not on every run
    await wechat.interact(ALICE)  # "回复公众号查看详情"
    assert await deliverer.run_once() == 1
    assert wechat.texts(ALICE) == [LONG]
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.via) == ("sent", "custom")


async def test_a_short_message_outside_the_window_is_delivered_by_the_template(
    wechat: Harness,
) -> None:
    await wechat.queue(ALICE, "您的求助已完成，谢谢！")  # a user we never heard from
    assert await wechat.deliverer(template=True).run_once() == 1
    [message] = wechat.state.messages(ALICE)
    assert message.kind == "template" and message.data is not None
    assert message.data["keyword1"] == {"value": "您的求助已完成，谢谢！"}
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.via) == ("sent", "template")


async def test_without_a_template_messages_wait_for_the_next_interaction(
    wechat: Harness,
) -> None:
    await wechat.interact(ALICE)
    wechat.state.advance(49 * 3600)
    await wechat.queue(ALICE, "第一条", "第二条")
    deliverer = wechat.deliverer()
    assert await deliverer.run_once() == 0
    waiting = await wechat.rows(ALICE)
    assert [(r.status, r.attempts, r.lease_until) for r in waiting] == [("pending", 0, None)] * 2
    for _ in range(3):  # nothing spins: no call to WeChat and no new claim
        wechat.state.advance(60)
        assert await deliverer.run_once() == 0
    assert sum(wechat.state.calls.values()) == 0
    assert [r.attempted_at for r in await wechat.rows(ALICE)] == [r.attempted_at for r in waiting]

    await wechat.interact(ALICE)
    assert await deliverer.run_once() == 2
    assert wechat.texts(ALICE) == ["第一条\n\n第二条"]


@pytest.mark.parametrize("template", [True, False], ids=["template", "no-template"])
async def test_the_sixth_message_after_a_user_message_exceeds_the_quota(
    wechat: Harness, template: bool
) -> None:
    await wechat.interact(ALICE)
    deliverer = wechat.deliverer(template=template)
    for i in range(5):
        await wechat.queue(ALICE, f"第{i + 1}条")
        assert await deliverer.run_once() == 1
    await wechat.queue(ALICE, "第6条")
    assert await deliverer.run_once() == (1 if template else 0)
    assert wechat.state.calls[CUSTOM] == 5  # the 6th was never tried as customer service
    assert len(wechat.texts(ALICE)) == 5
    [*_, sixth] = await wechat.rows(ALICE)
    if template:
        assert [m.kind for m in wechat.state.messages(ALICE)][-1] == "template"
        assert (sixth.status, sixth.via) == ("sent", "template")
    else:
        assert sixth.status == "pending"
        await wechat.interact(ALICE)  # a new message resets the quota
        assert await deliverer.run_once() == 1
        assert wechat.texts(ALICE)[-1] == "第6条"


async def test_a_click_opens_the_window_for_three_messages_within_a_minute(
    wechat: Harness,
) -> None:
    await wechat.interact(ALICE, "click")
    deliverer = wechat.deliverer()
    for i in range(4):
        await wechat.queue(ALICE, f"第{i + 1}条")
        await deliverer.run_once()
    assert wechat.texts(ALICE) == ["第1条", "第2条", "第3条"]
    await wechat.interact(ALICE, "click")
    wechat.state.advance(61)  # the stand-in, like WeChat, refuses once the minute has passed
    assert await deliverer.run_once() == 0
    assert wechat.state.calls[CUSTOM] == 3
    await wechat.interact(ALICE, "click")
    assert await deliverer.run_once() == 1
    assert wechat.texts(ALICE)[-1] == "第4条"


@pytest.mark.parametrize("errcode", [45015, 45047])
async def test_wechat_refusing_the_window_falls_back_to_the_template(
    wechat: Harness, errcode: int
) -> None:
    await wechat.interact(ALICE)
    deliverer = wechat.deliverer(template=True)
    wechat.state.fail_next(CUSTOM, errcode)
    await wechat.queue(ALICE, "好的")
    assert await deliverer.run_once() == 1
    assert [m.kind for m in wechat.state.messages(ALICE)] == ["template"]
    # WeChat's word stands until the user writes again: no more futile customer-service tries.
    wechat.state.advance(61)  # (and a minute after the last, a template may go again)
    await wechat.queue(ALICE, "收到")
    assert await deliverer.run_once() == 1
    assert wechat.state.calls[CUSTOM] == 1 and wechat.state.calls[TEMPLATE_SEND] == 2
    assert (await wechat.user(ALICE)).cs_sent_since_interaction == 5


async def test_a_user_gets_one_template_a_minute_however_much_comes_for_them(
    wechat: Harness,
) -> None:
    deliverer = wechat.deliverer(template=True)
    await wechat.interact(BOB)
    wechat.state.advance(49 * 3600)  # away for two days: outside the window
    offer = "有邻居需要帮忙：阳光花园3号楼，明天下午三点陪老人去医院看病，回复 接单 {}"
    await wechat.queue(BOB, offer.format(1))
    assert await deliverer.run_once() == 0  # announced: "您有一条新消息"
    # Another process delivering knows of that template too.
    other = wechat.deliverer(template=True, db=wechat.other_database())
    for n in (2, 3):
        wechat.state.advance(10)
        await wechat.queue(BOB, offer.format(n))
        assert await other.run_once() == 0  # a moment after the last: it waits
    assert [m.kind for m in wechat.state.messages(BOB)] == ["template"]
    wechat.state.advance(45)  # a minute after the announcement, still unanswered
    await deliverer.run_once()
    second = wechat.state.messages(BOB)[1]
    assert second.kind == "template" and second.data is not None
    assert second.data["first"]["value"] == "您有2条新消息"
    rows = await wechat.rows(BOB)
    assert [(r.status, r.via) for r in rows] == [("pending", "template")] * 3
    await wechat.interact(BOB)  # the reply brings all three in full, merged
    assert await deliverer.run_once() == 3
    assert wechat.texts(BOB) == ["\n\n".join(offer.format(n) for n in (1, 2, 3))]
    # Kept with the user, the last template holds for every process that delivers.
    sent_at = (await wechat.user(BOB)).template_sent_at
    assert sent_at is not None and abs(sent_at - second.at) < timedelta(seconds=1)


async def test_someone_who_never_wrote_gets_one_template_a_minute_too(wechat: Harness) -> None:
    # A duty worker named in the configuration is sent escalations without ever having written.
    deliverer = wechat.deliverer(template=True)
    for n in (1, 2, 3):
        await wechat.queue(ALICE, f"紧急求助 #{n}：需要社区工作人员处理")
        await deliverer.run_once()
        wechat.state.advance(10)
    assert [m.kind for m in wechat.state.messages(ALICE)] == ["template"]
    assert (await wechat.user(ALICE)).last_interaction_at is None  # known, not "written"
    wechat.state.advance(31)
    await deliverer.run_once()
    second = wechat.state.messages(ALICE)[1]
    assert second.data is not None and second.data["first"]["value"] == "您有2条新消息"


async def test_a_refused_template_leaves_the_message_waiting_not_lost(wechat: Harness) -> None:
    await wechat.queue(ALICE, "您的求助已完成")
    wechat.state.fail_next(TEMPLATE_SEND, 40037)  # e.g. a template_id mistyped in the config
    deliverer = wechat.deliverer(template=True)
    assert await deliverer.run_once() == 0
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.attempts, row.via) == ("pending", 0, None)
    assert row.last_error == "template refused: errcode 40037"
    await wechat.interact(ALICE)
    assert await deliverer.run_once() == 1
    assert wechat.texts(ALICE) == ["您的求助已完成"]


# --- errors -----------------------------------------------------------------------------


async def test_a_user_who_unfollowed_is_marked_and_their_messages_fail(wechat: Harness) -> None:
    wechat.state.follow(ALICE)
    await wechat.interact(ALICE)
    wechat.state.unfollow(ALICE)
    await wechat.queue(ALICE, "第一条", "第二条")
    deliverer = wechat.deliverer(template=True)
    assert await deliverer.run_once() == 0
    rows = await wechat.rows(ALICE)
    assert [r.status for r in rows] == ["failed", "failed"]
    assert all(r.last_error and "43004" in r.last_error for r in rows)
    assert not (await wechat.user(ALICE)).subscribed
    await wechat.queue(ALICE, "第三条")
    calls = sum(wechat.state.calls.values())
    assert await deliverer.run_once() == 0
    assert sum(wechat.state.calls.values()) == calls  # known not to follow: WeChat not asked
    assert [r.status for r in await wechat.rows(ALICE)] == ["failed"] * 3


async def test_system_busy_is_retried_later_and_pauses_the_run(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    await wechat.interact(BOB)
    await wechat.queue(ALICE, "给 Alice")
    await wechat.queue(BOB, "给 Bob")
    wechat.state.fail_next(CUSTOM, -1, times=3)  # the client's own three tries all busy
    deliverer = wechat.deliverer()
    before = wechat.state.now()
    assert await deliverer.run_once() == 0
    [alice] = await wechat.rows(ALICE)
    [bob] = await wechat.rows(BOB)
    assert (alice.status, alice.attempts) == ("pending", 1)
    assert alice.last_error and "-1" in alice.last_error
    assert (bob.status, bob.attempts) == ("pending", 0)  # given back untried
    assert wechat.state.calls[CUSTOM] == 3  # WeChat was busy: Bob was not tried this run
    assert before + timedelta(seconds=30) <= alice.next_attempt_at
    assert alice.next_attempt_at < before + timedelta(seconds=35)

    assert await deliverer.run_once() == 0
    assert wechat.state.calls[CUSTOM] == 3
    wechat.state.advance(31)
    assert await deliverer.run_once() == 2
    assert wechat.texts(ALICE) == ["给 Alice"] and wechat.texts(BOB) == ["给 Bob"]


async def test_the_backoff_is_capped_however_long_wechat_stays_down(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "hi")
    async with wechat.db.transaction() as session:
        await session.execute(update(OutboxMessage).values(attempts=500))
    wechat.state.fail_next(CUSTOM, -1, times=3)
    before = wechat.state.now()
    assert await wechat.deliverer(retry_cap=timedelta(minutes=30)).run_once() == 0
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.attempts) == ("pending", 501)  # transient: never given up
    assert before + timedelta(minutes=30) <= row.next_attempt_at
    assert row.next_attempt_at < before + timedelta(minutes=31)


async def test_a_rate_limit_backs_off_by_its_retry_after(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "hi")
    wechat.state.fail_next(CUSTOM, 45009)
    deliverer = wechat.deliverer()
    before = wechat.state.now()
    assert await deliverer.run_once() == 0
    [row] = await wechat.rows(ALICE)
    assert row.status == "pending" and row.next_attempt_at >= before + timedelta(seconds=60)
    wechat.state.advance(45)
    assert await deliverer.run_once() == 0
    wechat.state.advance(20)
    assert await deliverer.run_once() == 1


async def test_another_errcode_is_retried_then_failed_with_its_code(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "hi")
    wechat.state.fail_next(CUSTOM, 40003, times=5)
    deliverer = wechat.deliverer(max_attempts=2)
    assert await deliverer.run_once() == 0
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.attempts) == ("pending", 1)
    wechat.state.advance(31)
    assert await deliverer.run_once() == 0
    [row] = await wechat.rows(ALICE)
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.last_error and row.last_error.startswith("errcode 40003")
    wechat.state.advance(3600)
    assert await deliverer.run_once() == 0
    assert wechat.state.calls[CUSTOM] == 2


async def test_an_access_token_expiring_mid_run_is_renewed_and_the_message_sent(
    wechat: Harness,
) -> None:
    # The client's clock stands still, so it believes its token good while WeChat's expired.
    frozen = wechat.state.now()
    deliverer = wechat.deliverer(client_clock=lambda: frozen)
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "第一条")
    assert await deliverer.run_once() == 1
    wechat.state.advance(7200 + 60)
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "第二条")
    assert await deliverer.run_once() == 1
    assert wechat.texts(ALICE) == ["第一条", "第二条"]
    assert wechat.state.token_fetches == 2 and wechat.state.calls[CUSTOM] == 3


async def test_a_claim_left_by_a_crashed_process_is_retried_after_its_lease(
    wechat: Harness,
) -> None:
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "hi")
    async with wechat.db.transaction() as session:  # a process claims, then dies
        claimed = await delivery.claim_due(
            session=session, now=wechat.state.now(), lease=timedelta(minutes=2)
        )
    assert len(claimed) == 1
    deliverer = wechat.deliverer()
    assert await deliverer.run_once() == 0
    wechat.state.advance(121)
    assert await deliverer.run_once() == 1
    assert wechat.texts(ALICE) == ["hi"]


async def test_what_went_out_before_a_pause_is_recorded_sent_not_given_back(
    wechat: Harness,
) -> None:
    await wechat.interact(ALICE)
    await wechat.interact(BOB)
    await wechat.queue(ALICE, "给 Alice")
    await wechat.queue(BOB, "给 Bob")

    def busy_after_alice(delivered: Any) -> None:
        if delivered.openid == ALICE:  # WeChat gets busy right after taking Alice's message
            wechat.state.fail_next(CUSTOM, -1, times=3)

    wechat.state.on_deliver.append(busy_after_alice)
    deliverer = wechat.deliverer()
    assert await deliverer.run_once() == 1
    [alice] = await wechat.rows(ALICE)
    assert (alice.status, alice.via) == ("sent", "custom")
    assert (await wechat.user(ALICE)).cs_sent_since_interaction == 1
    [bob] = await wechat.rows(BOB)
    assert (bob.status, bob.attempts) == ("pending", 1)
    wechat.state.advance(31)
    assert await deliverer.run_once() == 1
    assert wechat.texts(ALICE) == ["给 Alice"] and wechat.texts(BOB) == ["给 Bob"]


async def run_counting_commits(deliverer: Deliverer, db: Database) -> tuple[int, int]:
    """One run of the deliverer: how many messages it sent, and how many commits it took."""
    commits = 0

    def count(_conn: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(db.engine.sync_engine, "commit", count)
    try:
        sent = await deliverer.run_once()
    finally:
        event.remove(db.engine.sync_engine, "commit", count)
    return sent, commits


async def test_a_batch_records_its_deliveries_in_one_transaction(
    wechat: Harness, db: Database
) -> None:
    deliverer = wechat.deliverer()
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "hi")
    assert await deliverer.run_once() == 1  # and the access token is fetched and stored
    people = [f"oPerson{n}AbCdEfGhIjKlMnOpQrS" for n in range(5)]
    for openid in people:
        await wechat.interact(openid)
        await wechat.queue(openid, "hi")
    sent, commits = await run_counting_commits(deliverer, db)
    assert sent == 5
    # The claim, then every delivery of the batch at once (it was one more per person).
    assert commits == 2
    for openid in people:
        [row] = await wechat.rows(openid)
        assert (row.status, row.attempted_at is not None) == ("sent", True)
        assert (await wechat.user(openid)).cs_sent_since_interaction == 1


async def test_a_batch_records_what_waits_for_its_readers_in_one_transaction(
    wechat: Harness, db: Database
) -> None:
    # Outside their windows, long offers are announced by template and wait for a reply: the
    # whole batch's announcements are recorded at once (it was a transaction per person).
    deliverer = wechat.deliverer(template=True)
    await wechat.queue(ALICE, "hi")
    await deliverer.run_once()  # and the access token is fetched and stored
    people = [f"oPerson{n}AbCdEfGhIjKlMnOpQrS" for n in range(5)]
    long_offer = "有邻居需要帮忙：阳光花园3号楼，明天下午三点陪老人去医院看病，回复 接单 12"
    for openid in people:
        await wechat.queue(openid, long_offer)
    sent, commits = await run_counting_commits(deliverer, db)
    assert sent == 0  # announced, not yet delivered
    assert commits == 2  # the claim, then what became of the batch
    for openid in people:
        [row] = await wechat.rows(openid)
        assert (row.status, row.via, row.attempted_at is not None) == ("pending", "template", True)
        assert row.lease_until is None and row.next_attempt_at > wechat.state.now()
        assert [m.kind for m in wechat.state.messages() if m.openid == openid] == ["template"]
    await wechat.interact(people[0])  # a reply brings the offer in full
    assert await deliverer.run_once() == 1
    assert wechat.texts(people[0]) == [long_offer]


async def test_a_slow_run_gives_back_what_it_cannot_send_within_half_its_lease(
    wechat: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    for openid in (ALICE, BOB, "oCarolAbCdEfGhIjKlMnOpQrS03"):
        await wechat.interact(openid)
        await wechat.queue(openid, "hi")

    def slow_clock() -> datetime:
        wechat.state.advance(3)  # every look at the clock costs three seconds
        return wechat.state.now()

    deliverer = wechat.deliverer(lease=timedelta(seconds=10))
    monkeypatch.setattr(deliverer, "_clock", slow_clock)
    batches = 0
    batch = deliverer._batch

    async def counted(served: set[str]) -> tuple[int, bool]:
        nonlocal batches
        batches += 1
        return await batch(served)

    monkeypatch.setattr(deliverer, "_batch", counted)
    assert await deliverer.run_once() == 3
    assert batches == 3  # one user per batch; the others were given back, untried, each time
    assert len(wechat.state.messages()) == 3
    for openid in (ALICE, BOB):
        assert [(r.status, r.attempts) for r in await wechat.rows(openid)] == [("sent", 0)]


async def test_two_processes_deliver_each_message_exactly_once(wechat: Harness) -> None:
    openids = [f"oUser{i:02d}AbCdEfGhIjKlMnOp" for i in range(12)]
    for openid in openids:
        await wechat.interact(openid)
        await wechat.queue(openid, f"{openid[:7]}-a", f"{openid[:7]}-b")
    first = wechat.deliverer(users_per_batch=3)
    second = wechat.deliverer(db=wechat.other_database(), users_per_batch=3)

    async def drain(deliverer: Deliverer) -> int:
        return sum([await deliverer.run_once() for _ in range(3)])

    assert sum(await asyncio.gather(drain(first), drain(second))) == 24
    delivered = [part for m in wechat.state.messages() if m.text for part in m.text.split("\n\n")]
    assert sorted(delivered) == sorted(f"{o[:7]}-{x}" for o in openids for x in "ab")
    for openid in openids:
        assert [r.status for r in await wechat.rows(openid)] == ["sent", "sent"]


# --- the background loop ------------------------------------------------------------------


@dataclass
class RunSpy:
    """Counts runs of the loop and can hold one open."""

    runs: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)


def spy_on_runs(deliverer: Deliverer, monkeypatch: pytest.MonkeyPatch) -> RunSpy:
    spy = RunSpy()
    spy.gate.set()
    real = deliverer.run_once

    async def counted() -> int:
        spy.runs += 1
        await spy.gate.wait()
        return await real()

    monkeypatch.setattr(deliverer, "run_once", counted)
    return spy


async def test_kicks_during_a_run_coalesce_into_one_more_run(
    wechat: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await wechat.interact(ALICE)
    deliverer = wechat.deliverer()
    spy = spy_on_runs(deliverer, monkeypatch)
    spy.gate.clear()
    await deliverer.start()
    await until(lambda: spy.runs == 1)  # the start-up run, held open
    await wechat.queue(ALICE, "第一条")
    for _ in range(10):
        deliverer.kick()
    await wechat.queue(ALICE, "第二条")
    deliverer.kick()
    spy.gate.set()
    await until(lambda: len(wechat.texts(ALICE)) == 1)
    await until(lambda: spy.runs == 2)  # one more, at least PACE after the first began
    await asyncio.sleep(PACE.total_seconds() + 0.05)
    assert spy.runs == 2
    assert wechat.texts(ALICE) == ["第一条\n\n第二条"]
    await deliverer.stop()


async def test_a_run_serves_each_user_once_however_much_keeps_coming(
    wechat: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under load, messages keep coming for the same people while a run delivers: the run
    # stops once it reaches people it served, and what came meanwhile goes out merged in the
    # next run (it used to chase every new message, batch after batch).
    people = [f"oBusy{n:02d}AbCdEfGhIjKlMnOpQr" for n in range(4)]
    for openid in people:
        await wechat.interact(openid)
        await wechat.queue(openid, "第1条")
    deliverer = wechat.deliverer(users_per_batch=2)
    batches = 0
    batch = deliverer._batch

    async def counted(served: set[str]) -> tuple[int, bool]:
        nonlocal batches
        batches += 1
        for openid in people:  # a new message for everyone as each batch begins
            await wechat.queue(openid, f"第{batches + 1}条")
        return await batch(served)

    monkeypatch.setattr(deliverer, "_batch", counted)
    await deliverer.run_once()
    # Two batches reach the four people; the third reaches the first two again, and ends it.
    assert batches == 3
    assert [len(wechat.texts(openid)) for openid in people] == [2, 2, 1, 1]


async def test_runs_begin_a_pace_apart_however_often_kicked(
    wechat: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliverer = wechat.deliverer()
    began: list[float] = []
    real = deliverer.run_once

    async def timed() -> int:
        began.append(asyncio.get_running_loop().time())
        return await real()

    monkeypatch.setattr(deliverer, "run_once", timed)
    await deliverer.start()
    for _ in range(40):
        deliverer.kick()
        await asyncio.sleep(0.01)
    await deliverer.stop()
    assert len(began) >= 2
    gaps = [later - earlier for earlier, later in itertools.pairwise(began)]
    assert min(gaps) >= PACE.total_seconds() - 0.01


async def test_one_run_at_a_time_in_a_process(
    wechat: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliverer = wechat.deliverer()
    active = peak = 0
    batch = deliverer._batch

    async def watched(served: set[str]) -> tuple[int, bool]:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        try:
            return await batch(served)
        finally:
            active -= 1

    monkeypatch.setattr(deliverer, "_batch", watched)
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "hi")
    counts = await asyncio.gather(*(deliverer.run_once() for _ in range(3)))
    assert sorted(counts) == [0, 0, 1] and peak == 1
    assert wechat.texts(ALICE) == ["hi"]


async def test_the_poll_delivers_what_nobody_kicked_for(wechat: Harness) -> None:
    await wechat.interact(ALICE)
    deliverer = wechat.deliverer(poll=0.05)
    await deliverer.start()
    await asyncio.sleep(0.05)
    await wechat.queue(ALICE, "没有人 kick")
    await until(lambda: wechat.texts(ALICE) == ["没有人 kick"])
    await deliverer.stop()


async def test_stop_waits_for_the_current_run_then_ends_the_loop(
    wechat: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "hi")
    deliverer = wechat.deliverer()
    spy = spy_on_runs(deliverer, monkeypatch)
    inside, gate = asyncio.Event(), asyncio.Event()
    batch = deliverer._batch

    async def held(served: set[str]) -> tuple[int, bool]:
        inside.set()
        await gate.wait()
        return await batch(served)

    monkeypatch.setattr(deliverer, "_batch", held)
    await deliverer.start()
    await asyncio.wait_for(inside.wait(), 2)  # a run is under way
    stopping = asyncio.create_task(deliverer.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    gate.set()
    await asyncio.wait_for(stopping, 2)
    assert wechat.texts(ALICE) == ["hi"]  # the run it waited for finished its work
    deliverer.kick()
    await asyncio.sleep(0.05)
    assert spy.runs == 1  # no loop is left to answer a kick
    await asyncio.wait_for(deliverer.stop(), 1)  # stopping twice is harmless


async def test_the_loop_survives_a_failed_run(
    wechat: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    deliverer = wechat.deliverer()
    real = deliverer.run_once
    failures = [RuntimeError("database went away")]

    async def flaky() -> int:
        if failures:
            raise failures.pop()
        return await real()

    monkeypatch.setattr(deliverer, "run_once", flaky)
    await deliverer.start()
    await until(lambda: not failures)
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "still here")
    deliverer.kick()
    await until(lambda: wechat.texts(ALICE) == ["still here"])
    await deliverer.stop()
    assert "RuntimeError" in caplog.text


async def test_logs_hold_no_openid_or_message_text(
    wechat: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_text = "请联系 13812345678 取钥匙"
    deliverer = wechat.deliverer(template=True)
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, secret_text)
    await deliverer.run_once()
    wechat.state.fail_next(CUSTOM, -1, times=3)
    await wechat.queue(ALICE, secret_text)
    await deliverer.run_once()
    await wechat.queue(BOB, secret_text)  # outside the window: announced by template
    await deliverer.run_once()
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("bot.wechat.outbound")
    )
    assert mask(ALICE) in ours and mask(BOB) in ours
    for private in (ALICE, BOB, secret_text, "13812345678", secret_text[:5]):
        assert private not in ours


async def test_a_refused_access_token_pauses_delivery_and_loses_nothing(wechat: Harness) -> None:
    # Regression: a wrong AppSecret or a missing IP whitelist entry failed every queued message
    # after three attempts; it is the account's fault, not the messages'.
    wechat.state.secret = "rotated-by-an-admin"
    deliverer = wechat.deliverer()
    await wechat.interact(ALICE)
    await wechat.queue(ALICE, "您的求助 #1 已有志愿者接单")
    for _ in range(5):
        assert await deliverer.run_once() == 0
        async with wechat.db.transaction() as session:
            await session.execute(update(OutboxMessage).values(next_attempt_at=wechat.state.now()))
    rows = await wechat.rows(ALICE)
    assert [r.status for r in rows] == ["pending"]
    wechat.state.secret = SECRET
    assert await deliverer.run_once() == 1
    assert wechat.texts(ALICE) == ["您的求助 #1 已有志愿者接单"]


async def test_an_expired_message_is_never_sent(wechat: Harness) -> None:
    deliverer = wechat.deliverer()
    async with wechat.db.transaction() as session:
        await outbox.enqueue(
            session=session,
            openid=BOB,
            text="有邻居需要帮忙 #3",
            expires_at=wechat.state.now() + timedelta(hours=1),
        )
    wechat.state.advance(2 * 3600)
    await wechat.interact(BOB)  # back two hours later: the offer is stale news
    assert await deliverer.run_once() == 0
    assert wechat.texts(BOB) == []
    assert [r.status for r in await wechat.rows(BOB)] == ["expired"]


async def test_a_waiting_outbox_is_logged_once_per_user_not_on_every_pass(
    wechat: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # Regression: a long run's log was 99% "1 message(s) to oVOL… wait for the user" lines,
    # one per offer queued for a volunteer outside the window and one per re-check.
    caplog.set_level(logging.INFO, logger="bot.wechat.outbound")
    deliverer = wechat.deliverer()

    def waits() -> int:
        return sum("wait for the user" in r.getMessage() for r in caplog.records)

    for n in range(4):
        await wechat.queue(BOB, f"有邻居需要帮忙 #{n}")
        await deliverer.run_once()
    wechat.state.advance(7 * 3600)  # the slow re-check of everything waiting
    await deliverer.run_once()
    assert [r.status for r in await wechat.rows(BOB)] == ["pending"] * 4
    assert waits() == 1

    await wechat.interact(BOB)  # the state changes: delivered, then waiting again later
    assert await deliverer.run_once() == 4
    wechat.state.advance(49 * 3600)
    await wechat.queue(BOB, "有邻居需要帮忙 #5")
    await deliverer.run_once()
    assert waits() == 2
