"""Who a notice reaches: an audience by community, compound, building, role or tag, within the
scope of the worker who sends it.

Where a person lives is their own place, else their volunteer record's; people who never gave
one count as living in the deployment's home community (`[org] community`), as the single
compound of a small install is assumed for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import col

from storage import org, tags
from storage.errors import InvalidInput
from storage.models import Community, Compound, Street, Tag, TagMember, User, Volunteer

Role = Literal["all", "resident", "volunteer"]
ROLES: tuple[Role, ...] = ("all", "resident", "volunteer")
ROLE_WORDS = {"resident": "居民", "volunteer": "志愿者"}


class AudienceError(InvalidInput):
    """An audience that names what is unknown (or outside the scope); Chinese for people, and
    English for operators in `.en`."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh)
        self.en = en


@dataclass(frozen=True)
class Scope:
    """What a worker may reach: one community, one street, or (operators) everything."""

    community_id: int | None = None
    street_id: int | None = None


EVERYWHERE = Scope()


@dataclass(frozen=True)
class AudienceSpec:
    """An audience as people name it; every field given narrows it."""

    community: str | None = None
    compound: str | None = None
    building: str | None = None
    role: Role = "all"
    tag: str | None = None


@dataclass(frozen=True)
class Audience:
    """An audience resolved to ids, with its description in words."""

    label: str
    community_id: int | None = None
    street_id: int | None = None  # the street of community_id, for listing by scope
    compound_id: int | None = None
    building: str | None = None
    role: Role = "all"
    tag_id: int | None = None


async def resolve(*, session: AsyncSession, spec: AudienceSpec, scope: Scope) -> Audience:
    """The audience `spec` names, or InvalidInput (in Chinese) naming what is unknown or out
    of the scope."""
    if spec.role not in ROLES:
        raise AudienceError(
            f"对象只能是居民、志愿者或全部，不是“{spec.role}”",
            f"role must be resident, volunteer or all, not {spec.role!r}",
        )
    if spec.building and not spec.compound:
        raise AudienceError("指定楼栋时请同时写明小区", "a building needs its compound")
    known = [p for p in await org.places(session=session) if _within(p, scope)]
    community_id = street_id = compound_id = None
    words: list[str] = []
    if spec.community:
        matches = {(p.community_id, p.street_id) for p in known if p.community == spec.community}
        if not matches:
            raise AudienceError(
                f"没有找到社区“{spec.community}”", f"no community named {spec.community!r}"
            )
        if len(matches) > 1:
            raise AudienceError(
                f"有几个社区叫“{spec.community}”，请联系管理员",
                f"several communities are named {spec.community!r}",
            )
        community_id, street_id = matches.pop()
        words.append(spec.community)
    if spec.compound:
        named = await org.named_places(session=session)
        among = [
            (name, p)
            for name, p in named
            if _within(p, scope) and (community_id is None or p.community_id == community_id)
        ]
        place = _one_compound(among, spec.compound)
        compound_id, community_id, street_id = (
            place.compound_id,
            place.community_id,
            place.street_id,
        )
        words = [place.compound]
    if spec.building:
        words[-1] += (
            spec.building if spec.building.endswith(("楼", "栋", "幢")) else f"{spec.building}号楼"
        )
    if community_id is None and scope.community_id is not None:
        community_id = scope.community_id
        street_id = next((p.street_id for p in known if p.community_id == community_id), None)
    if street_id is None:
        street_id = scope.street_id
    streets = {p.street_id for p in known}
    if street_id is None and len(streets) == 1:
        street_id = streets.pop()  # so a street's workers see an operator's notice to all
    tag_id = None
    if spec.tag:
        found = await session.scalar(select(col(Tag.id)).where(col(Tag.name) == spec.tag))
        if found is None:
            names = await tags.names(session=session)
            raise AudienceError(
                f"没有找到标签“{spec.tag}”（现有标签：{'、'.join(names) or '无'}；"
                "标签在公众号后台的用户管理里设置）",
                f"no tag named {spec.tag!r} (known: {', '.join(names) or 'none'}; tags are set "
                "in WeChat's console and copied by a running server every 30 minutes)",
            )
        tag_id = int(found)
        words.append(f"标签“{spec.tag}”")
    if spec.role != "all":
        words.append(ROLE_WORDS[spec.role])
    label = " · ".join(words) or ("全社区" if scope.community_id else "全部关注者")
    return Audience(label, community_id, street_id, compound_id, spec.building, spec.role, tag_id)


def _within(place: org.Place, scope: Scope) -> bool:
    if scope.community_id is not None:
        return place.community_id == scope.community_id
    return scope.street_id is None or place.street_id == scope.street_id


def _one_compound(named: list[tuple[str, org.Place]], name: str) -> org.Place:
    """The compound called `name` (its name or an alias, else the only one containing it)."""
    found = {p.compound_id: p for alias, p in named if alias == name}
    if not found:
        found = {p.compound_id: p for alias, p in named if name in alias}
    if not found:
        raise AudienceError(f"没有找到小区“{name}”", f"no compound named {name!r}")
    if len(found) > 1:
        places = list(found.values())
        if len({p.compound for p in places}) == len(places):
            names = "、".join(p.compound for p in places)
            raise AudienceError(
                f"“{name}”能对上几个小区（{names}），请写全名",
                f"{name!r} matches several compounds ({names}): write it in full",
            )
        # One name in two communities: writing it in full cannot tell them apart.
        zh = "、".join(f"{p.community}的{p.compound}" for p in places)
        en = ", ".join(f"{p.compound} in {p.community}" for p in places)
        raise AudienceError(
            f"有几个小区叫“{name}”（{zh}），请在前面写上社区名",
            f"several compounds are called {name!r} ({en}): name the community too (--community)",
        )
    return next(iter(found.values()))


# --- the recipients, in SQL ------------------------------------------------------------


def recipients(
    audience: Audience, scope: Scope, *, home_community_id: int | None, excluded: bool = False
) -> Select[Any]:
    """SELECT openid of everyone the audience reaches within `scope`; with `excluded`, of those
    it would reach but who opted out (退订) or stopped following instead."""
    lives_in = case(
        (col(User.compound_id).is_not(None), User.compound_id), else_=Volunteer.compound_id
    )
    building = case((col(User.compound_id).is_not(None), User.building), else_=Volunteer.building)
    query: Select[Any]
    if audience.tag_id is not None:
        query = (
            select(col(TagMember.openid).label("openid"))
            .outerjoin(User, col(User.openid) == TagMember.openid)
            .where(col(TagMember.tag_id) == audience.tag_id)
        )
    else:
        query = select(col(User.openid).label("openid"))
    query = (
        query.outerjoin(Volunteer, col(Volunteer.user_id) == User.id)
        .outerjoin(Compound, col(Compound.id) == lives_in)
        .outerjoin(Community, col(Community.id) == Compound.community_id)
    )
    unplaced = lives_in.is_(None)
    conditions: list[ColumnElement[bool]] = []
    for community_id in (audience.community_id, scope.community_id):
        if community_id is not None:
            home = true() if community_id == home_community_id else false()
            conditions.append(or_(col(Compound.community_id) == community_id, and_(unplaced, home)))
    if scope.street_id is not None and scope.community_id is None:
        home_street = (
            select(col(Community.street_id))
            .where(col(Community.id) == home_community_id)
            .scalar_subquery()
        )
        conditions.append(
            or_(
                col(Community.street_id) == scope.street_id,
                and_(unplaced, home_street == scope.street_id),
            )
        )
    if audience.compound_id is not None:
        conditions.append(lives_in == audience.compound_id)
    if audience.building:
        conditions.append(building == audience.building)
    if audience.role == "volunteer":
        conditions.append(and_(col(Volunteer.id).is_not(None), col(Volunteer.active).is_(True)))
    elif audience.role == "resident":
        conditions.append(or_(col(Volunteer.id).is_(None), col(Volunteer.active).is_(False)))
    left = or_(col(User.subscribed).is_(False), col(User.broadcast_opt_out).is_(True))
    # A tag member Jinlin never met has no user row: IS FALSE / IS TRUE keep them in.
    conditions.append(left if excluded else ~left)
    return query.where(*conditions)


async def count(
    *,
    session: AsyncSession,
    audience: Audience,
    scope: Scope,
    home_community_id: int | None,
    excluded: bool = False,
) -> int:
    """How many people `recipients` selects."""
    found = recipients(audience, scope, home_community_id=home_community_id, excluded=excluded)
    return int(await session.scalar(select(func.count()).select_from(found.subquery())) or 0)


async def home_community(*, session: AsyncSession, street: str, community: str) -> int | None:
    """The id of the deployment's own community (`[org] street` and `community`)."""
    found = await session.scalar(
        select(col(Community.id))
        .join(Street, col(Street.id) == Community.street_id)
        .where(col(Street.name) == street, col(Community.name) == community)
    )
    return int(found) if found is not None else None


async def street_id(*, session: AsyncSession, name: str) -> int | None:
    """The id of the street called `name`."""
    found = await session.scalar(select(col(Street.id)).where(col(Street.name) == name))
    return int(found) if found is not None else None
