"""What kind of help a message is about, how urgent it is, and what a volunteer can do."""

from __future__ import annotations

from typing import NamedTuple

from nlp.signals import Signals


class CategoryTags(NamedTuple):
    """A category with the tags of its cue words (what is done) and who-words (老人)."""

    name: str
    cues: str
    people: str


def category_tags(order: tuple[str, ...]) -> tuple[CategoryTags, ...]:
    """The lexicon's category order with each category's tags, spelled once at start-up."""
    return tuple(CategoryTags(name, f"c:{name}", f"p:{name}") for name in order)


def categories(
    signals: Signals, order: tuple[CategoryTags, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(categories touched, categories of what is done), each in precedence order.

    The second leaves out who-words (老人, 奶奶): a volunteer who can 陪老人看病 has the
    medical skill, not an elderly one.
    """
    hits = signals.hits
    touched: list[str] = []
    skills: list[str] = []
    for name, cues, people in order:
        if cues in hits:
            touched.append(name)
            skills.append(name)
        elif people in hits:
            touched.append(name)
    return tuple(touched), tuple(skills)


def asked(signals: Signals, order: tuple[CategoryTags, ...]) -> tuple[str, ...]:
    """The categories whose cue words (what is done) stand in a clause with a plea (帮我 /
    谁能 / 能不能 / 麻烦): the help asked, as against the background told beside it."""
    return tuple(
        name
        for name, cues, _ in order
        if any(
            signals.pleads(offset, offset + len(word)) for offset, word in signals.positions(cues)
        )
    )


def urgency(signals: Signals, today: bool) -> str:
    """urgent or normal for a help request by the contract's words; `today` when help is
    wanted today. Emergencies are the danger detector's (nlp.danger)."""
    if today:
        return "urgent"  # the contract's rule: help wanted today is urgent, 不急 or not
    if signals.has("u:calm"):
        return "normal"  # 不急 / 不着急 cancel an urgency word, not the day
    return "urgent" if signals.has("u:urgent") else "normal"
