"""Becoming a volunteer: a short guided sign-up, (LISTED →) SKILLS → PLACE → TIME → NAME.

LISTED is asked only while the community has volunteers listed by phone and not yet bound:
someone listed answers with their phone and is bound instead (handlers/binding.py)."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from bot.core.context import Ctx
from bot.core.inbound import Inbound
from bot.core.router import PASS, Router
from handlers import binding, dialog, menu, texts
from handlers.places import (
    answer_location,
    choices_question,
    compound_choices,
    compound_named,
    only_compound,
    picked_compound,
)
from nlp import CATEGORIES, Parse
from storage import bindings, org, volunteers
from storage.availability import SLOTS, slots_in
from storage.models import User

router = Router("signup")

SKILL_CHOICES = [c for c in CATEGORIES if c != "other"]
SLOT_CHOICES = list(SLOTS)
QUIT = ("取消报名", "不报了", "算了", "退出")
_NUMBER = re.compile(r"\d+")
_DIGITS = re.compile(r"\d{5}")  # a phone number, perhaps mistyped: keep asking for it
# "叫我小赵就行": the words around a name that are not the name.
_NAME_BEFORE = re.compile(r"^(?:我叫|叫我|我是|称呼我?|我姓)")
_NAME_AFTER = re.compile(r"(?:就行了?|就好了?|就可以了?|即可|吧|呀|啊)$")


class Signup(Enum):
    """The sign-up's questions, in order."""

    LISTED = "listed"
    SKILLS = "skills"
    PLACE = "place"
    TIME = "time"
    NAME = "name"


def _skills_question() -> str:
    options = " ".join(f"{i}{texts.category_name(c)}" for i, c in enumerate(SKILL_CHOICES, 1))
    return f"您能帮哪些忙？可以多选，回复编号或名称，例如“2 8”：\n{options}"


def _time_question() -> str:
    options = " ".join(f"{i}{name}" for i, name in enumerate(SLOTS.values(), 1))
    return f"您什么时间方便？可以多选，例如“2 3”：\n{options}"


LISTED_QUESTION = (
    "社区已经帮您登记过志愿者吗？登记过请回复当时留的手机号；没有的话回复“没有”，我们开始报名。"
)
NOT_LISTED = ("没有", "没", "不是", "否", "no", "没登记")
NAME_QUESTION = "最后，怎么称呼您？可以顺便留个手机号，接单后会告诉求助的居民（不想留就只写称呼）。"


@router.text("volunteer_signup", command=("我想当志愿者", "志愿者报名", "报名志愿者", "重新登记"))
@router.event("click", key=menu.VOLUNTEER)
async def start(ctx: Ctx, msg: Inbound, parse: Parse | None, user: User) -> str:
    existing = await volunteers.find(session=ctx.session, user_id=user.id)
    if existing is not None and existing.active and not (msg.text or "").startswith("重新登记"):
        named = "、".join(texts.category_name(s) for s in existing.skills.split("|") if s)
        return f"您已经是志愿者了（{named}）。要修改登记信息，请回复“重新登记”。"
    mentioned = [s for s in (parse.skills if parse is not None else ()) if s in SKILL_CHOICES]
    if existing is None or not existing.active:
        waiting = await binding.waiting_text(ctx, user)
        if waiting is not None:
            return waiting
        phone = parse.phone if parse is not None else None
        entry = await bindings.unbound_by_phone(session=ctx.session, phone=phone) if phone else None
        if entry is not None:
            return await binding.claim(ctx, user, entry)
        if phone is None and await bindings.any_unbound(session=ctx.session):
            await dialog.ask(ctx, user, Signup.LISTED, {"skills": mentioned})
            return "谢谢您愿意帮助邻居！" + LISTED_QUESTION
    return await _begin(ctx, user, mentioned, "谢谢您愿意帮助邻居！")


async def _begin(ctx: Ctx, user: User, mentioned: list[str], lead: str, **data: Any) -> str:
    if mentioned:
        return await _after_skills(ctx, user, {**data, "skills": mentioned}, lead)
    await dialog.ask(ctx, user, Signup.SKILLS, data)
    return f"{lead}只需回答几个问题。\n" + _skills_question()


@router.state(Signup.LISTED)
async def listed_answer(
    ctx: Ctx, msg: Inbound, parse: Parse | None, user: User, dialog_data: dict[str, Any]
) -> object:
    text = (msg.text or "").strip().lower()
    phone = parse.phone if parse is not None else None
    mentioned = list(dialog_data.get("skills") or [])
    if phone is not None:
        entry = await bindings.unbound_by_phone(session=ctx.session, phone=phone)
        if entry is not None:
            await dialog.finish(ctx, user)
            return await binding.claim(ctx, user, entry)
        lead = "没有找到这个号码的登记，我们直接报名吧，"
        return await _begin(ctx, user, mentioned, lead, phone=phone)
    if text.startswith(NOT_LISTED):
        return await _begin(ctx, user, mentioned, "好的，")
    # Someone who skipped past the question and answered the next one ("买菜 跑腿") is not
    # on the list: their answer starts the sign-up rather than the same question again.
    named = [s for s in _named_skills(msg.text or "", parse) if s not in mentioned]
    if named:
        return await _begin(ctx, user, mentioned + named, "好的，")
    if parse is not None and parse.intent not in ("unknown", "volunteer_signup"):
        return PASS
    if dialog_data.get("unclear") and not _DIGITS.search(text):
        return await _begin(ctx, user, mentioned, "那我们直接报名吧，")
    await dialog.ask(ctx, user, Signup.LISTED, {**dialog_data, "unclear": True})
    return "没看明白。" + LISTED_QUESTION


async def quit_signup(ctx: Ctx, msg: Inbound, user: User) -> object:
    if not (msg.text or "").strip().startswith(QUIT):
        return PASS
    await dialog.finish(ctx, user)
    return "好的，已取消报名。随时欢迎您再来！"


# Giving up is possible at every question; registered first, so it is tried first.
for _state in Signup:
    router.state(_state)(quit_signup)


@router.state(Signup.SKILLS)
async def skills_answer(
    ctx: Ctx, msg: Inbound, parse: Parse | None, user: User, dialog_data: dict[str, Any]
) -> str:
    text = msg.text or ""
    chosen = _picked(text, SKILL_CHOICES)
    chosen += [s for s in _named_skills(text, parse) if s not in chosen]
    if not chosen:
        return "没看明白，请回复编号，例如“2 8”。\n" + _skills_question()
    return await _after_skills(ctx, user, {**dialog_data, "skills": chosen}, "好的。")


def _named_skills(text: str, parse: Parse | None) -> list[str]:
    """The skills an answer names in words (助老, or 买菜 as the parser reads it)."""
    named = [c for c in SKILL_CHOICES if texts.category_name(c) in text]
    read = parse.skills if parse is not None else ()
    return named + [s for s in read if s in SKILL_CHOICES and s not in named]


async def _after_skills(ctx: Ctx, user: User, data: dict[str, Any], lead: str) -> str:
    home = (
        await org.place_of(session=ctx.session, compound_id=user.compound_id)
        if user.compound_id
        else None
    )
    place = home or await only_compound(ctx)
    if place is not None and user.building and home is not None:
        data.update(compound_id=place.compound_id, building=user.building)
        await dialog.ask(ctx, user, Signup.TIME, data)
        return f"{lead}\n{_time_question()}"
    if place is not None:
        data["compound_id"] = place.compound_id
    await dialog.ask(ctx, user, Signup.PLACE, data)
    where = "住几号楼" if place is not None else "住哪个小区、几号楼（例如“阳光花园3号楼”）"
    return f"{lead}请问您{where}？有邻居在附近需要帮忙时会先找您。"


@router.state(Signup.PLACE)
async def place_answer(
    ctx: Ctx, msg: Inbound, parse: Parse | None, user: User, dialog_data: dict[str, Any]
) -> str:
    text = (msg.text or "").strip()
    place = await picked_compound(ctx, text, dialog_data.get("choices"))
    building = dialog_data.get("building")
    if place is None:
        place = await compound_named(ctx, parse.compound if parse is not None else None)
        found, _, _ = answer_location(parse, text) if parse is not None else (None, None, None)
        building = found or building
    compound_id = place.compound_id if place else dialog_data.get("compound_id")
    if compound_id is None:
        choices, close = await compound_choices(ctx, text)
        if not choices:
            return "请告诉我小区和楼号，例如“阳光花园3号楼”。"
        picks = [c.compound_id for c in choices]
        await dialog.ask(
            ctx, user, Signup.PLACE, {**dialog_data, "choices": picks, "building": building}
        )
        return choices_question(choices, close)
    if building is None:
        await dialog.ask(
            ctx, user, Signup.PLACE, {**dialog_data, "choices": None, "compound_id": compound_id}
        )
        return "请回复楼号，例如“3号楼”。"
    await org.ensure_building(session=ctx.session, compound_id=compound_id, building=building)
    if user.compound_id is None:
        user.compound_id, user.building = compound_id, building
        ctx.session.add(user)
    await dialog.ask(
        ctx,
        user,
        Signup.TIME,
        {**dialog_data, "compound_id": compound_id, "building": building, "choices": None},
    )
    return "好的。\n" + _time_question()


@router.state(Signup.TIME)
async def time_answer(ctx: Ctx, msg: Inbound, user: User, dialog_data: dict[str, Any]) -> str:
    text = msg.text or ""
    slots = _picked(text, SLOT_CHOICES)
    slots += [slot for slot in slots_in(text) if slot not in slots]
    if not slots:
        return "没看明白，请回复编号，例如“2 3”。\n" + _time_question()
    await dialog.ask(ctx, user, Signup.NAME, {**dialog_data, "availability": slots})
    return NAME_QUESTION


@router.state(Signup.NAME)
async def name_answer(
    ctx: Ctx, msg: Inbound, parse: Parse | None, user: User, dialog_data: dict[str, Any]
) -> str:
    text = (msg.text or "").strip()
    phone = (parse.phone if parse is not None else None) or dialog_data.get("phone")
    name = re.sub(r"[\d\s\-+，,。.、:：]+", " ", text).strip()
    name = _NAME_AFTER.sub("", _NAME_BEFORE.sub("", name).strip().split(" ")[0])[:16]
    if not name:
        return "请告诉我怎么称呼您，例如“王阿姨”。"
    volunteer = await volunteers.sign_up(
        session=ctx.session,
        user=user,
        name=name,
        phone=phone,
        skills=dialog_data["skills"],
        compound_id=dialog_data.get("compound_id"),
        building=dialog_data.get("building"),
        availability=dialog_data["availability"],
        task_limit=ctx.config.routing.task_limit,
    )
    await dialog.finish(ctx, user)
    skills = "、".join(texts.category_name(s) for s in dialog_data["skills"])
    times = "、".join(SLOTS[slot] for slot in dialog_data["availability"] if slot in SLOTS)
    # What was understood, so that a misread answer is seen now and not after weeks of silence.
    place = await org.place_of(session=ctx.session, compound_id=volunteer.compound_id or 0)
    building = f"{volunteer.building}号楼" if volunteer.building else ""
    home = f"；住：{place.compound}{building}" if place else ""
    return (
        f"登记好了，{volunteer.name}！您能帮：{skills}；时间：{times}{home}。"
        "有不对的回复“重新登记”。\n"
        "附近有邻居需要帮忙时我会通知您，回复“接单 #编号”就能接。"
        "“我的任务”看手上的任务，“暂停接单”可以休息一阵。"
    )


def _picked(text: str, choices: list[str]) -> list[str]:
    picked: list[str] = []
    for number in _NUMBER.findall(text):
        index = int(number) - 1
        if 0 <= index < len(choices) and choices[index] not in picked:
            picked.append(choices[index])
    return picked
