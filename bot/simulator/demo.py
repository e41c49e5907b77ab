"""The demo: its configuration (built in code, no file), its community in the database, and
each persona's 48-hour window kept the same in Jinlin's database and in the stand-in."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import (
    AdminConfig,
    Config,
    DatabaseConfig,
    FollowupsConfig,
    OrgConfig,
    RoutingConfig,
    ServerConfig,
    WeChatConfig,
)
from bot.simulator.personas import PERSONAS, PHONES, PLACES, STREET, WORKER_OPENIDS, Role
from bot.simulator.standin import StandinState, Window
from bot.web.console import passwords
from storage import accounts, org, roster, users, volunteers
from storage.db import Database
from storage.org import Place
from storage.roster import VolunteerData
from storage.types import utcnow

DEMO_DB = Path("jinlin-demo.db")
APPID, SECRET = "wxd3m0000000000001", "jinlin-demo-secret"
TOKEN = "jinlin-demo-token"
AES_KEY = "JinLinDemoEncodingAESKey0123456789abcdefghi"  # 43 characters, as WeChat's are
TEMPLATE_ID = "jinlin-demo-notice"
CONSOLE_PASSWORD = "jinlin-demo"  # the demo workers' console login (周书记 / 黄主任)
# A persona who "writes often" and has not written for this long has their window reopened at
# start, so offers reach them; one set back on purpose is older than this too.
STALE = timedelta(hours=24)
AWAY = timedelta(days=3)  # how long ago the away persona last wrote

Mode = Literal["plain", "compat", "safe"]


def demo_config(
    *, db_path: Path, host: str, port: int, api_base_url: str, mode: Mode = "plain"
) -> Config:
    """The demo's configuration: no file and no environment, so a real deployment's
    JINLIN_* variables can never point it at a real database or the real WeChat."""
    communities = list(PLACES)
    return Config(
        server=ServerConfig(host=host, port=port),
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{db_path}"),
        wechat=WeChatConfig(
            appid=APPID,
            secret=SECRET,
            token=TOKEN,
            encoding_aes_key=AES_KEY,
            mode=mode,
            api_base_url=api_base_url,
            template_id=TEMPLATE_ID,
        ),
        admin=AdminConfig(openids=list(WORKER_OPENIDS)),
        org=OrgConfig(street=STREET, community=communities[0]),
        # Short follow-ups, so a newcomer sees the circle widen, escalation and the
        # satisfaction question within minutes instead of hours.
        routing=RoutingConfig(
            offer_timeout=timedelta(minutes=2), urgent_offer_timeout=timedelta(seconds=30)
        ),
        followups=FollowupsConfig(
            satisfaction_delay=timedelta(seconds=30),
            overdue_after=timedelta(minutes=20),
            auto_close_after=timedelta(minutes=30),
            poll_interval=timedelta(seconds=1),
        ),
    )


async def seed(db: Database, *, task_limit: int) -> bool:
    """Put the demo community into `db` unless it is there already; whether it was new.

    A second start finds it and changes nothing, so what people did in the demo (a volunteer
    who paused, a resident who moved) is kept.
    """
    async with db.transaction() as session:
        if any(p.street == STREET for p in await org.places(session=session)):
            return False
        homes: dict[str, Place] = {}
        for community, compounds in PLACES.items():
            for compound, buildings in compounds.items():
                for building in buildings:
                    homes[compound] = await org.ensure_place(
                        session=session,
                        street=STREET,
                        community=community,
                        compound=compound,
                        building=building,
                    )
        # Windows are set apart (open_windows, copy_windows): here the users just exist.
        await users.touch(session=session, arrivals={p.openid: None for p in PERSONAS}, at=utcnow())
        for persona in PERSONAS:
            user = await users.get(session=session, openid=persona.openid)
            user.name, user.phone = persona.name, PHONES[persona.openid]
            if persona.compound:
                user.compound_id, user.building = (
                    homes[persona.compound].compound_id,
                    persona.building,
                )
            session.add(user)
        crew = [p for p in PERSONAS if p.role == Role.VOLUNTEER and p.compound]
        # Those listed by phone only are on the roster without their openid, waiting for 绑定.
        listed = [p for p in PERSONAS if p.listed and p.compound]
        await roster.upsert_volunteers(
            session=session,
            volunteers=[
                (
                    VolunteerData(
                        None if p.listed else p.openid,
                        p.name,
                        PHONES[p.openid],
                        p.skills,
                        p.building,
                        p.availability,
                    ),
                    homes[str(p.compound)],
                )
                for p in (*crew, *listed)
            ],
            task_limit=task_limit,
            at=utcnow(),
        )
        for persona in crew:
            user = await users.get(session=session, openid=persona.openid)
            volunteer = await volunteers.find(session=session, user_id=user.id)
            assert volunteer is not None
            if persona.paused:
                await volunteers.set_paused(session=session, volunteer=volunteer, paused=True)
            if persona.task_limit is not None:
                volunteer.task_limit = persona.task_limit
                session.add(volunteer)
        await _console_accounts(session)
    return True


async def _console_accounts(session: AsyncSession) -> None:
    # Each worker can try the console (/console) under their own name, within their community.
    hashed = await asyncio.to_thread(passwords.hash_password, CONSOLE_PASSWORD)
    for persona in PERSONAS:
        if persona.role == Role.WORKER and persona.community:
            where = await accounts.find_where(
                session=session, street=STREET, community=persona.community
            )
            await accounts.add(
                session=session, username=persona.name, password_hash=hashed, where=where
            )


def open_windows(state: StandinState, *, fresh: bool, now: datetime) -> None:
    """WeChat's side of the story at start: everyone follows (when `fresh`); those who write
    often wrote lately, the away persona days ago; the demo's template exists."""
    state.add_template(TEMPLATE_ID)
    for persona in PERSONAS:
        window = None if fresh else state.window_of(persona.openid)
        if fresh:
            state.follow(persona.openid)
        # A message (not the follow) was the last interaction: its quota is 5 in 48 hours.
        if persona.recent and (window is None or now - window.at > STALE):
            state.set_window(persona.openid, Window("message", now, 0))
        elif window is None:
            state.set_window(persona.openid, Window("message", now - AWAY, 0))


async def copy_windows(db: Database, state: StandinState, openids: list[str] | None = None) -> None:
    """Jinlin's record of each persona's window, quota and following, as the stand-in has it."""
    async with db.transaction() as session:
        for openid in openids if openids is not None else [p.openid for p in PERSONAS]:
            window = state.window_of(openid)
            await users.set_window(
                session=session,
                openid=openid,
                at=window.at if window else None,
                kind=window.kind if window else None,
                sent=window.sent if window else 0,
                subscribed=state.is_following(openid),
            )
