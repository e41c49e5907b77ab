"""Audiences and notices within a worker's scope, on SQLite and PostgreSQL: one community's
worker neither reaches nor sees another's people or notices."""

from __future__ import annotations

import pytest

from storage import audience, broadcasts, org
from storage.audience import EVERYWHERE, AudienceError, AudienceSpec, Scope
from storage.broadcasts import Rules, batch_sizes
from storage.db import Database
from storage.errors import Conflict, NotFound
from storage.models import BroadcastState, User, Volunteer
from storage.types import utcnow

STREET = "示范街道"


async def town(db: Database) -> tuple[Scope, Scope, Scope, Rules]:
    """Two communities of one street, people in each, a volunteer, someone placed nowhere."""
    async with db.transaction() as session:
        east = await org.ensure_place(
            session=session, street=STREET, community="东社区", compound="阳光花园"
        )
        west = await org.ensure_place(
            session=session, street=STREET, community="西社区", compound="幸福里"
        )
        for openid, place, building in (
            ("oEast1", east, "1"),
            ("oEast2", east, "2"),
            ("oWest1", west, "1"),
        ):
            session.add(User(openid=openid, compound_id=place.compound_id, building=building))
        session.add(User(openid="oNowhere"))
        helper = User(openid="oHelper")
        session.add(helper)
        await session.flush()
        assert helper.id is not None
        session.add(
            Volunteer(user_id=helper.id, name="王芳", compound_id=west.compound_id, building="3")
        )
    rules = Rules(home_community_id=east.community_id)
    return (
        Scope(community_id=east.community_id),
        Scope(community_id=west.community_id),
        Scope(street_id=east.street_id),
        rules,
    )


async def reach(db: Database, spec: AudienceSpec, scope: Scope, rules: Rules) -> set[str]:
    async with db.transaction() as session:
        chosen = await audience.resolve(session=session, spec=spec, scope=scope)
        query = audience.recipients(chosen, scope, home_community_id=rules.home_community_id)
        return set(await session.scalars(query))


async def test_an_audience_stays_inside_the_scope_it_is_chosen_in(db: Database) -> None:
    east, west, street, rules = await town(db)
    everyone = AudienceSpec()
    assert await reach(db, everyone, east, rules) == {"oEast1", "oEast2", "oNowhere"}
    assert await reach(db, everyone, west, rules) == {"oWest1", "oHelper"}  # a volunteer's home
    assert await reach(db, everyone, street, rules) == {
        "oEast1",
        "oEast2",
        "oWest1",
        "oHelper",
        "oNowhere",
    }
    assert await reach(db, AudienceSpec(role="volunteer"), street, rules) == {"oHelper"}
    assert await reach(db, AudienceSpec(role="resident"), west, rules) == {"oWest1"}
    spec = AudienceSpec(compound="阳光花园", building="2")
    assert await reach(db, spec, street, rules) == {"oEast2"}
    for outside in (AudienceSpec(compound="幸福里"), AudienceSpec(community="西社区")):
        with pytest.raises(AudienceError) as caught:
            await reach(db, outside, east, rules)
        assert "没有找到" in str(caught.value) and "no " in caught.value.en


async def test_notices_are_listed_shown_and_withdrawn_only_within_their_scope(
    db: Database,
) -> None:
    east, west, street, rules = await town(db)
    now = utcnow()
    made = {}
    async with db.transaction() as session:
        for name, scope in (("east", east), ("west", west)):
            chosen = await audience.resolve(session=session, spec=AudienceSpec(), scope=scope)
            made[name] = await broadcasts.create_broadcast(
                session=session,
                text=f"{name} 停水",
                audience=chosen,
                scope=scope,
                rules=rules,
                created_by="test",
                now=now,
            )
    async with db.transaction() as session:
        listed = await broadcasts.list_broadcasts(session=session, scope=east)
        assert [p.text for p in listed] == ["east 停水"] and listed[0].pending == 3
        both = await broadcasts.list_broadcasts(session=session, scope=street)
        assert [p.text for p in both] == ["west 停水", "east 停水"]
        assert len(await broadcasts.list_broadcasts(session=session, scope=EVERYWHERE)) == 2
        west_id = made["west"].id or 0
        with pytest.raises(NotFound):
            await broadcasts.progress(session=session, broadcast_id=west_id, scope=east)
        with pytest.raises(NotFound):
            await broadcasts.cancel_broadcast(session=session, broadcast_id=west_id, scope=east)
        await broadcasts.cancel_broadcast(session=session, broadcast_id=west_id, scope=west)
        shown = await broadcasts.progress(session=session, broadcast_id=west_id, scope=west)
        assert shown.state == BroadcastState.CANCELLED and shown.pending == 0
        with pytest.raises(Conflict):
            await broadcasts.cancel_broadcast(session=session, broadcast_id=west_id, scope=west)


@pytest.mark.parametrize(
    ("total", "size", "sizes"),
    [(1, 10, [1]), (2, 10, [2]), (11, 10, [9, 2]), (12, 10, [10, 2]), (7, 3, [3, 2, 2])],
)
def test_openid_lists_are_never_of_one_unless_there_is_one_recipient(
    total: int, size: int, sizes: list[int]
) -> None:
    assert batch_sizes(total, size) == sizes
