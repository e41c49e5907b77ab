"""A street of two communities behind a running Jinlin, with console accounts of each, for
console tests: an HTTP client per logged-in worker, and requests and volunteers to look at."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.web.console import passwords
from bot.web.keys import DATABASE
from storage import accounts, org, requests, users
from storage.db import Database
from storage.requests import NewRequest
from storage.types import utcnow
from tests.conftest import make_config
from tests.handlers.community import register_volunteer
from tests.servers import Running, jinlin

STREET, EAST, WEST = "示范街道", "东社区", "西社区"
EAST_COMPOUND, WEST_COMPOUND = "阳光花园", "幸福里"
PASSWORD = "correct-horse-9"
# username -> community (None: the whole street)
ACCOUNTS = {"east": EAST, "west": WEST, "street": None}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    server: Running

    @property
    def url(self) -> str:
        return self.server.url + "/console"

    @property
    def db(self) -> Database:
        return self.server.app[DATABASE]

    @asynccontextmanager
    async def browser(self) -> AsyncIterator[aiohttp.ClientSession]:
        """A client with its own cookies (loopback IPs need the unsafe jar), no redirects."""
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept": "text/html"}
        ) as client:
            yield client

    @asynccontextmanager
    async def logged_in(self, username: str) -> AsyncIterator[aiohttp.ClientSession]:
        async with self.browser() as client:
            answer = await self.login(client, username, PASSWORD)
            assert answer.status == 303, await answer.text()
            yield client

    async def login(
        self, client: aiohttp.ClientSession, username: str, password: str
    ) -> aiohttp.ClientResponse:
        form = await client.get(f"{self.url}/login")
        token = csrf_in(await form.text())
        return await client.post(
            f"{self.url}/login",
            data={"username": username, "password": password, "csrf": token},
            allow_redirects=False,
        )

    async def csrf(self, client: aiohttp.ClientSession) -> str:
        page = await client.get(f"{self.url}/account")
        return csrf_in(await page.text())

    async def ask(self, openid: str, compound: str, text: str, **fields: Any) -> int:
        """A request as a resident's message would leave it (status open); its number."""
        async with self.db.transaction() as session:
            place = await org.find_compound(session=session, name=compound)
            assert place is not None
            arrived = await users.touch(session=session, arrivals={openid: "message"}, at=utcnow())
            data = NewRequest(
                category=fields.pop("category", "errand"),
                urgency=fields.pop("urgency", "normal"),
                text=text,
                compound_id=place.compound_id,
                building=fields.pop("building", "3"),
                **fields,
            )
            created = await requests.create(
                session=session, resident_id=arrived[openid].id, data=data, actor=openid
            )
            assert created.id is not None
            return created.id


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found[1]


async def add_accounts(db: Database) -> None:
    """The street's two communities and an account for each, and one for the whole street."""
    hashed = passwords.hash_password(PASSWORD)
    async with db.transaction() as session:
        await org.ensure_place(
            session=session, street=STREET, community=WEST, compound=WEST_COMPOUND
        )
        for username, community in ACCOUNTS.items():
            where = await accounts.find_where(session=session, street=STREET, community=community)
            await accounts.add(
                session=session, username=username, password_hash=hashed, where=where
            )


@asynccontextmanager
async def site(
    db_url: str, parser: Any, *, scheduler: bool = False, **config: dict[str, Any]
) -> AsyncIterator[Site]:
    """Jinlin on loopback for a street whose first community is configured, and the accounts."""
    settings = make_config(
        database={"url": db_url},
        admin={"openids": ["oDuty"]},
        org={"street": STREET, "community": EAST, "compounds": [EAST_COMPOUND]},
        **config,
    )
    async with jinlin(settings, parser, scheduler=scheduler) as server:
        running = Site(server)
        await add_accounts(running.db)
        yield running


async def volunteer(db: Database, openid: str, name: str, community: str, **how: Any) -> None:
    """A volunteer of one of the two communities."""
    compound = EAST_COMPOUND if community == EAST else WEST_COMPOUND
    await register_volunteer(
        db,
        openid,
        name,
        how.pop("skills", ["errand"]),
        compound=compound,
        community=community,
        **how,
    )


async def seed_weeks(s: Site, weeks: int = 6) -> None:
    """A few weeks of finished and scored requests (for the reports and their pictures)."""
    from datetime import timedelta

    from sqlalchemy import update

    from storage.models import HelpRequest, Status

    categories = ("errand", "elderly", "repair", "medical", "errand", "childcare")
    now = utcnow()
    for n in range(weeks * 4):
        number = await s.ask(
            f"oSeed{n % 5}", EAST_COMPOUND, f"往期求助 {n}", category=categories[n % 6]
        )
        created = now - timedelta(days=7 * weeks - n * 7 / 4, hours=2)
        done = n % 5 != 0
        async with s.db.transaction() as session:
            await session.execute(
                update(HelpRequest)
                .where(HelpRequest.id == number)  # type: ignore[arg-type]
                .values(
                    created_at=created,
                    accepted_at=created + timedelta(minutes=5 + 7 * (n % 4)) if done else None,
                    done_at=created + timedelta(hours=3) if done else None,
                    closed_at=created + timedelta(hours=5),
                    status=Status.CLOSED if done else Status.EXPIRED,
                    score=(3, 4, 5, 5)[n % 4] if done else None,
                    credited_minutes=60 if done else None,
                )
            )


async def residents(s: Site, compound: str, *openids: str) -> None:
    """Followers living in `compound` (who a notice to its community reaches)."""
    async with s.db.transaction() as session:
        place = await org.find_compound(session=session, name=compound)
        assert place is not None
        await users.touch(session=session, arrivals=dict.fromkeys(openids, "message"), at=utcnow())
        for openid in openids:
            user = await users.get(session=session, openid=openid)
            user.compound_id, user.building = place.compound_id, "3"
            session.add(user)
        # The stand-in learns of them as followers when they write; here they just follow.
    for openid in openids:
        s.server.standin.interact(openid, "message")
