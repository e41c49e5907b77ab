"""The router: what matches, in which order, and who may trigger it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest

from bot.core.inbound import Inbound
from bot.core.router import PASS, Router


@dataclass
class P:
    intent: str


class Flow(Enum):
    ASKING = "asking"
    CONFIRMING = "confirming"


def build() -> Router:
    root, first, second = Router("root"), Router("first"), Router("second")

    @first.text(command=("接单",), role="volunteer")
    async def take() -> str:
        return "take"

    @first.text(command=("接单", "放弃"))
    async def not_volunteer() -> str:
        return "not a volunteer"

    @second.text("greeting")
    async def hello(msg: Inbound) -> str:
        return f"hello {msg.openid}"

    @second.state(Flow.ASKING)
    async def asking(msg: Inbound) -> Any:
        return PASS if msg.text == "你好" else "answer"

    @second.state(Flow.CONFIRMING, answers=("放弃",))
    async def confirming(msg: Inbound) -> str:
        return f"answered {msg.text}"

    @second.event("click", key="HELP")
    async def help_button() -> str:
        return "help"

    @second.fallback()
    async def anything() -> str:
        return "fallback"

    root.include(first, second)
    return root


async def run(
    text: str | None,
    *,
    intent: str = "unknown",
    roles: frozenset[str] = frozenset(),
    state: str | None = None,
    event: str | None = None,
    key: str | None = None,
) -> Any:
    kind = "event" if event else "text"
    msg = Inbound(openid="o1", kind=kind, created=1, text=text, event=event, event_key=key)

    async def user_roles() -> frozenset[str]:
        return roles

    data = {"msg": msg, "parse": P(intent) if text else None, "dialog_state": state}
    return await build().dispatch(data, user_roles)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("接单", "not a volunteer"),
        ("接单 #12", "not a volunteer"),
        ("接单12", "not a volunteer"),
        ("放弃：12", "not a volunteer"),
        ("接单了吗", "fallback"),
        ("我要接单", "fallback"),
    ],
)
async def test_commands_are_whole_words_with_arguments_not_sentences(
    text: str, expected: str
) -> None:
    assert await run(text) == expected


async def test_roles_are_declared_apart_from_what_is_said() -> None:
    assert await run("接单 #3", roles=frozenset({"volunteer"})) == "take"
    assert await run("接单 #3", roles=frozenset({"resident"})) == "not a volunteer"


async def test_intents_states_and_the_pass_from_a_state() -> None:
    assert await run("你好", intent="greeting") == "hello o1"
    assert await run("3号楼", state="Flow.ASKING") == "answer"
    assert await run("你好", intent="greeting", state="Flow.ASKING") == "hello o1"


async def test_events_match_by_name_and_key() -> None:
    assert await run(None, event="click", key="HELP") == "help"
    assert await run(None, event="click", key="OTHER") is None
    assert await run(None, event="view") is None


def test_a_misspelt_handler_argument_fails_at_registration() -> None:
    router = Router("typo")
    with pytest.raises(TypeError, match="takes mgs"):

        @router.text("greeting")
        async def hello(mgs: Inbound) -> str:
            return "hello"


async def test_a_command_mid_question_is_a_command_not_an_answer() -> None:
    # Regression: sign-up once stored "我的任务" as a volunteer's name.
    assert await run("接单 #3", state="Flow.ASKING") == "not a volunteer"
    assert await run(None, event="click", key="HELP", state="Flow.ASKING") == "help"
    assert await run("接单了吗", state="Flow.ASKING") == "answer"


async def test_a_command_word_a_question_takes_as_its_answer_goes_to_the_question() -> None:
    # Regression: 取消 at the broadcast's confirmation cancelled nothing of the notice.
    assert await run("放弃", state="Flow.CONFIRMING") == "answered 放弃"
    assert await run("接单 #3", state="Flow.CONFIRMING") == "not a volunteer"
    assert await run("放弃", state="Flow.ASKING") == "not a volunteer"
