"""The value types a parse produces: the contract's fields plus the dialogue layer's extras."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

INTENTS: tuple[str, ...] = (
    "request_help",
    "check_status",
    "cancel_request",
    "rate_service",
    "volunteer_signup",
    "accept_task",
    "decline_task",
    "complete_task",
    "complaint",
    "greeting",
    "thanks",
    "usage_help",
    "unknown",
)

# Category name -> Chinese name, in the contract's table order (not precedence order).
CATEGORIES: dict[str, str] = {
    "medical": "助医",
    "elderly": "助老",
    "disability": "助残",
    "childcare": "助幼",
    "tutoring": "助教",
    "hardship": "助困",
    "repair": "维修",
    "errand": "跑腿",
    "mediation": "调解",
    "safety": "安全",
    "other": "其他",
}


@dataclass(frozen=True, slots=True)
class Where:
    """A place inside a compound: building, unit and room, each as digits or None."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None

    def to_contract(self) -> dict[str, str | None]:
        """The contract's JSON object for this place."""
        return {"building": self.building, "unit": self.unit, "room": self.room}


class Parse(NamedTuple):
    """What one chat message means, as far as the dialogue layer needs to know.

    Immutable like any tuple, and built four times faster than a frozen dataclass: the
    parser makes one per message.
    """

    intent: str
    category: str | None = None
    urgency: str | None = None
    when: str | None = None
    where: Where | None = None
    phone: str | None = None
    score: int | None = None
    task_ref: str | None = None
    compound: str | None = None
    skills: tuple[str, ...] = ()
    beneficiary: str | None = None
    when_at: datetime | None = None
    when_has_time: bool = False
    plea: bool = False  # the message asks someone to do something (帮我, 能不能, 谁能)
    # False when the parser is unsure of the intent: the learned scorer's confidence in it
    # is low (below nlp.combine.SURE), the rules did not find the same intent by a word of
    # their own, and the message cannot be an emergency. The bot should then ask one short
    # question ("您是需要找人帮忙吗？回复“是”或“不是”") before acting. Never False for a
    # possible emergency, which goes out at once.
    sure: bool = True

    def to_contract(self) -> dict[str, Any]:
        """Exactly the contract's JSON fields, in the contract's order."""
        return {
            "intent": self.intent,
            "category": self.category,
            "urgency": self.urgency,
            "when": self.when,
            "where": self.where.to_contract() if self.where else None,
            "phone": self.phone,
            "score": self.score,
            "task_ref": self.task_ref,
        }
