"""The demo's data: seeded once through the roster's storage functions, reused as it was, and
every persona's 48-hour window the same in Jinlin's database and in the stand-in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.runtime import running
from bot.simulator.demo import AWAY, STALE, copy_windows, open_windows, seed
from bot.simulator.personas import PERSONAS, PLACES, STREET, WORKER_OPENIDS, Role
from bot.simulator.standin import StandinState, Window
from storage import org, users, volunteers
from storage.db import Database
from storage.models import User, Volunteer
from storage.types import utcnow
from tests.conftest import make_config

ACTIVE, AWAY_ONE = "oDemoVolChen", "oDemoVolZhaoDaye"


async def _volunteers(db: Database) -> dict[str, Volunteer]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(User.openid, Volunteer).join(Volunteer, Volunteer.user_id == User.id)  # type: ignore[arg-type]
        )
        return {openid: volunteer for openid, volunteer in rows.all()}


async def test_the_demo_community_is_seeded_once_and_kept_as_people_changed_it(
    db: Database,
) -> None:
    assert await seed(db, task_limit=2) is True
    async with db.transaction() as session:
        places = await org.places(session=session)
        wang = await users.get(session=session, openid="oDemoResWang")
        newcomer = await users.get(session=session, openid="oDemoResZhao")
    assert {p.street for p in places} == {STREET}
    assert {p.community for p in places} == set(PLACES)
    assert {p.compound for p in places} == {c for cs in PLACES.values() for c in cs}
    assert (wang.name, wang.building) == ("王阿姨", "3") and wang.compound_id is not None
    assert newcomer.compound_id is None  # the bot will ask where she lives
    crew = await _volunteers(db)
    assert len(crew) == sum(p.role == Role.VOLUNTEER for p in PERSONAS) == 12
    assert {o for o, v in crew.items() if v.paused} == {"oDemoVolSun", "oDemoVolHe"}
    assert crew["oDemoVolWu"].task_limit == 1 and crew[ACTIVE].task_limit == 2
    assert crew[ACTIVE].skills == "medical|elderly"
    assert not set(WORKER_OPENIDS) & set(crew)

    async with db.transaction() as session:  # the volunteer pauses herself in chat
        await volunteers.set_paused(session=session, volunteer=crew[ACTIVE], paused=True)
    assert await seed(db, task_limit=2) is False
    again = await _volunteers(db)
    assert len(again) == 12 and again[ACTIVE].paused
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == len(PERSONAS)


async def test_windows_open_for_those_who_write_often_and_agree_in_both_places(
    db: Database,
) -> None:
    await seed(db, task_limit=2)
    state = StandinState("wx", "secret", real_time=True)
    now = utcnow()
    open_windows(state, fresh=True, now=now)
    await copy_windows(db, state)
    active, away = state.window_of(ACTIVE), state.window_of(AWAY_ONE)
    assert active == Window("message", now, 0)  # a message's quota, not a follow's minute
    assert away is not None and away.at == now - AWAY
    async with db.transaction() as session:
        found = await users.by_openids(session=session, openids={ACTIVE, AWAY_ONE})
    assert found[ACTIVE].last_interaction_at == now
    assert found[ACTIVE].last_interaction_kind == "message"
    assert found[AWAY_ONE].last_interaction_at == now - AWAY
    assert all(u.subscribed for u in found.values())


async def test_a_restart_reopens_stale_windows_of_active_personas_only(db: Database) -> None:
    await seed(db, task_limit=2)
    state = StandinState("wx", "secret", real_time=True)
    start = utcnow()
    open_windows(state, fresh=True, now=start)
    state.set_window("oDemoVolLi", Window("message", start - timedelta(hours=2), 3))
    state.set_window(ACTIVE, Window("message", start - STALE - timedelta(hours=1), 0))
    state.unfollow("oDemoResLin")
    later = start + timedelta(minutes=5)
    open_windows(state, fresh=False, now=later)
    await copy_windows(db, state)
    assert state.window_of(ACTIVE) == Window("message", later, 0)
    assert state.window_of("oDemoVolLi") == Window("message", start - timedelta(hours=2), 3)
    away = state.window_of(AWAY_ONE)
    assert away is not None and away.at == start - AWAY  # still away: templates only
    async with db.transaction() as session:
        found = await users.by_openids(session=session, openids={"oDemoVolLi", "oDemoResLin"})
    assert found["oDemoVolLi"].cs_sent_since_interaction == 3
    assert not found["oDemoResLin"].subscribed


async def test_serve_with_a_real_config_never_creates_demo_data(sqlite_url: str) -> None:
    config = make_config(database={"url": sqlite_url}, org={"compounds": ["阳光花园"]})
    async with running(config, scheduler=False) as runtime, runtime.db.transaction() as session:
        streets = {p.street for p in await org.places(session=session)}
        people = await session.scalar(select(func.count()).select_from(User))
    assert STREET not in streets and people == 0


async def test_the_demo_workers_have_console_accounts_for_their_own_community(
    sqlite_url: str,
) -> None:
    from bot.simulator.demo import CONSOLE_PASSWORD
    from bot.web.console import passwords
    from storage import accounts
    from storage.db import open_database
    from storage.migrate import upgrade

    db = open_database(sqlite_url)
    try:
        await upgrade(db)
        await seed(db, task_limit=2)
        async with db.transaction() as session:
            for persona in (p for p in PERSONAS if p.role == Role.WORKER):
                account = await accounts.by_username(session=session, username=persona.name)
                assert account is not None
                where = await accounts.where_of(session=session, account=account)
                assert where.community == persona.community
                assert passwords.verify_password(CONSOLE_PASSWORD, account.password_hash)
    finally:
        await db.close()
