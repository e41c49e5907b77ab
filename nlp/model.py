"""The value types a parse produces: the contract's fields plus the dialogue layer's extras."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Parse:
    """What one chat message means, as far as the dialogue layer needs to know."""

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
