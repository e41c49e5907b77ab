"""The demo's people and places: one street, two communities, their compounds, a cast to play.

Data only: `bot/simulator/demo.py` puts it into a database, the simulator page shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

STREET = "和平街道"
# community → compound → buildings
PLACES: dict[str, dict[str, tuple[str, ...]]] = {
    "阳光社区": {"阳光花园": ("1", "2", "3", "5"), "翠竹苑": ("1", "2")},
    "幸福社区": {"幸福里": ("1", "2", "4", "6"), "和谐家园": ("1", "3")},
}
# Where each compound's gate is, for the simulator's "send location" (made-up coordinates).
GATES: dict[str, tuple[float, float]] = {
    "阳光花园": (39.9087, 116.3975),
    "翠竹苑": (39.9112, 116.4021),
    "幸福里": (39.9046, 116.4102),
    "和谐家园": (39.9018, 116.4153),
}


class Role(StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    WORKER = "worker"


ROLE_NAMES = {Role.RESIDENT: "居民", Role.VOLUNTEER: "志愿者", Role.WORKER: "社区工作者"}


@dataclass(frozen=True)
class Persona:
    """Someone the simulator can play."""

    openid: str
    name: str
    role: Role
    compound: str | None = None  # home; None for a newcomer the bot must ask
    building: str | None = None
    skills: tuple[str, ...] = ()  # categories of shared/spec/nlp.md
    availability: tuple[str, ...] = ("anytime",)
    paused: bool = False
    task_limit: int | None = None  # None: the configured default
    # Wrote to the account lately (inside WeChat's 48-hour window) at every start of the demo;
    # False for someone last seen days ago, who is reached by template messages only.
    recent: bool = True
    community: str | None = None  # a worker's community
    # On the community's volunteer list by name and phone only (skills as `skills`): bound to
    # this WeChat when they send 绑定 with that phone and a worker approves (handlers/binding.py).
    listed: bool = False
    about: str = ""  # one line shown in the persona picker

    @property
    def community_of_home(self) -> str | None:
        """The community of the persona's compound (or the worker's own)."""
        if self.community:
            return self.community
        return next((c for c, compounds in PLACES.items() if self.compound in compounds), None)


def _volunteer(openid: str, name: str, compound: str, building: str, **how: object) -> Persona:
    return Persona(openid, name, Role.VOLUNTEER, compound, building, **how)  # type: ignore[arg-type]


PERSONAS: tuple[Persona, ...] = (
    Persona("oDemoResWang", "王阿姨", Role.RESIDENT, "阳光花园", "3", about="独居老人"),
    Persona("oDemoResChen", "陈先生", Role.RESIDENT, "阳光花园", "5", about="常替母亲求助"),
    Persona("oDemoResLin", "林奶奶", Role.RESIDENT, "幸福里", "2", about="腿脚不便"),
    Persona("oDemoResZhao", "小赵", Role.RESIDENT, about="刚搬来，还没登记住址"),
    _volunteer("oDemoVolChen", "陈护士", "阳光花园", "3", skills=("medical", "elderly")),
    _volunteer("oDemoVolLi", "李师傅", "阳光花园", "2", skills=("repair", "safety")),
    _volunteer(
        "oDemoVolZhang",
        "张阿姨",
        "阳光花园",
        "5",
        skills=("elderly", "errand"),
        availability=("weekday_day", "weekend_day"),
    ),
    _volunteer(
        "oDemoVolZhaoDaye",
        "赵大爷",
        "阳光花园",
        "1",
        skills=("elderly", "mediation", "errand"),
        recent=False,
        about="三天没上线：只能收到模板消息",
    ),
    _volunteer(
        "oDemoVolZhou",
        "小周",
        "翠竹苑",
        "2",
        skills=("errand", "tutoring", "medical"),
        availability=("weekday_evening", "weekend_day", "weekend_evening"),
    ),
    _volunteer(
        "oDemoVolSun",
        "孙老师",
        "翠竹苑",
        "1",
        skills=("tutoring", "childcare"),
        paused=True,
        about="暂停接单中",
    ),
    _volunteer(
        "oDemoVolWu",
        "吴师傅",
        "幸福里",
        "4",
        skills=("repair", "safety"),
        task_limit=1,
        about="同时只接 1 单",
    ),
    _volunteer(
        "oDemoVolZheng",
        "郑大姐",
        "幸福里",
        "6",
        skills=("errand", "elderly", "hardship"),
        availability=("weekday_day", "weekend_day"),
    ),
    _volunteer("oDemoVolQian", "钱医生", "幸福里", "2", skills=("medical",)),
    _volunteer("oDemoVolMa", "马大哥", "幸福里", "1", skills=("disability", "errand", "repair")),
    _volunteer(
        "oDemoVolFeng",
        "冯同学",
        "和谐家园",
        "1",
        skills=("tutoring", "errand"),
        availability=("weekday_evening", "weekend_day"),
    ),
    _volunteer(
        "oDemoVolHe",
        "何阿姨",
        "和谐家园",
        "3",
        skills=("childcare", "elderly"),
        paused=True,
        about="暂停接单中",
    ),
    Persona("oDemoWorkerZhou", "周书记", Role.WORKER, community="阳光社区"),
    Persona("oDemoWorkerHuang", "黄主任", Role.WORKER, community="幸福社区"),
    # Last, so that the others keep their phone numbers (PHONES) in a demo made before her.
    Persona(
        "oDemoListedGao",
        "高阿姨",
        Role.RESIDENT,
        "阳光花园",
        "2",
        skills=("elderly", "errand"),
        listed=True,
        about="待绑定志愿者 手机13800000019",
    ),
)

# The community workers' openids, in one place: today they are `[admin] openids`; console
# accounts scoped to a community can be linked to them by these.
WORKER_OPENIDS: dict[str, str] = {
    p.openid: p.community or "" for p in PERSONAS if p.role == Role.WORKER
}
BY_OPENID: dict[str, Persona] = {p.openid: p for p in PERSONAS}
# Made-up phone numbers, one per persona: the volunteer who accepts sees the resident's.
PHONES: dict[str, str] = {p.openid: f"1380000{i:04d}" for i, p in enumerate(PERSONAS, 1)}
