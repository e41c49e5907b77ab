"""A small router: handlers declare what they match and who may trigger them."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bot.core.inbound import Inbound

Handler = Callable[..., Awaitable[Any]]
Roles = Callable[[], Awaitable[frozenset[str]]]

# What a handler may take, by name: what the dispatcher provides for every message. A handler
# receives exactly the ones it names; naming anything else fails when it is registered.
ARGUMENTS = frozenset({"ctx", "msg", "parse", "user", "dialog_data"})


class _Pass:
    """Returned by a state handler that leaves the message to the other routes."""

    def __repr__(self) -> str:
        return "PASS"


PASS = _Pass()


class Lazy:
    """A handler argument worth loading only for the handlers that name it."""

    __slots__ = ("_load",)

    def __init__(self, load: Callable[[], Awaitable[Any]]) -> None:
        self._load = load

    def __call__(self) -> Awaitable[Any]:
        return self._load()


@dataclass(frozen=True)
class Route:
    handler: Handler
    intents: frozenset[str] = frozenset()
    commands: tuple[str, ...] = ()
    events: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()  # an event's EventKey (menu buttons); empty: any
    state: str | None = None
    answers: frozenset[str] = frozenset()  # command words that answer this state's question
    roles: frozenset[str] = frozenset()
    fallback: bool = False
    params: frozenset[str] = field(default_factory=frozenset)

    async def call(self, data: dict[str, Any]) -> Any:
        """Call the handler with exactly the parameters it names (loading Lazy ones once)."""
        arguments = {}
        for name in self.params:
            if name in data:
                value = data[name]
                if isinstance(value, Lazy):
                    value = data[name] = await value()
                arguments[name] = value
        return await self.handler(**arguments)


def _state_name(state: Enum | str) -> str:
    if isinstance(state, Enum):
        return f"{type(state).__name__}.{state.name}"
    return state


class Router:
    """Routes of one feature module; routers nest with include()."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._routes: list[Route] = []
        self._children: list[Router] = []
        self._index: _Index | None = None

    def include(self, *routers: Router) -> None:
        self._children.extend(routers)

    def text(
        self, *intents: str, command: str | tuple[str, ...] = (), role: str | tuple[str, ...] = ()
    ) -> Callable[[Handler], Handler]:
        """Match text whose parsed intent is one of `intents`, or that starts with a command."""
        commands = (command,) if isinstance(command, str) else command
        return self._register(intents=frozenset(intents), commands=commands, roles=role)

    def state(
        self, state: Enum | str, role: str | tuple[str, ...] = (), answers: tuple[str, ...] = ()
    ) -> Callable[[Handler], Handler]:
        """Match any message from a user whose pending question is `state`.

        A command typed during the question is done as a command, except the `answers`: words
        that are also commands (取消) but, typed alone, answer this question.
        """
        return self._register(state=_state_name(state), roles=role, answers=frozenset(answers))

    def event(
        self, *names: str, key: str | tuple[str, ...] = (), role: str | tuple[str, ...] = ()
    ) -> Callable[[Handler], Handler]:
        """Match WeChat events by their lower-case name (and, for menu clicks, their key)."""
        keys = (key,) if isinstance(key, str) else key
        return self._register(events=frozenset(names), keys=frozenset(keys), roles=role)

    def fallback(self, role: str | tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        """Match what no other route took."""
        return self._register(fallback=True, roles=role)

    def _register(
        self, roles: str | tuple[str, ...] = (), **match: Any
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            params = frozenset(inspect.signature(handler).parameters)
            if params - ARGUMENTS:
                raise TypeError(
                    f"handler {handler.__module__}.{handler.__qualname__} takes "
                    f"{', '.join(sorted(params - ARGUMENTS))}; a handler may take only "
                    f"{', '.join(sorted(ARGUMENTS))}"
                )
            allowed = frozenset((roles,) if isinstance(roles, str) else roles)
            self._routes.append(Route(handler, roles=allowed, params=params, **match))
            return handler

        return decorate

    def routes(self) -> Iterator[Route]:
        """Every route, own routes first, then included routers in order."""
        yield from self._routes
        for child in self._children:
            yield from child.routes()

    def candidates(
        self, inbound: Inbound, intent: str | None, state: str | None
    ) -> Iterator[Route]:
        """The routes that match, in order: pending question, event, command, intent, fallback.

        A command or a menu click is never an answer: typed in the middle of a question, it
        is done as a command (the question stays pending), not stored as the answer.
        """
        if self._index is None:
            self._index = _Index(list(self.routes()))
        index = self._index
        if inbound.kind == "event":
            for route in index.events.get(inbound.event or "", ()):
                if not route.keys or inbound.event_key in route.keys:
                    yield route
            return
        commanded = index.commanded(inbound.text or "")
        if state is not None:
            word = (inbound.text or "").strip()
            for route in index.states.get(state, ()):
                if not commanded or word in route.answers:
                    yield route
        yield from commanded
        if intent is not None:
            yield from index.intents.get(intent, ())
        yield from index.fallbacks

    async def dispatch(self, data: dict[str, Any], roles: Roles) -> Any:
        """Run the first matching route whose roles allow the sender; PASS moves on to the next."""
        parse = data.get("parse")
        intent = parse.intent if parse is not None else None
        for route in self.candidates(data["msg"], intent, data.get("dialog_state")):
            if route.roles and not route.roles & await roles():
                continue
            result = await route.call(data)
            if result is not PASS:
                return result
        return None


# What may follow a command word: arguments after a separator, or a task number.
_COMMAND_FOLLOWERS = frozenset(" \t#＃:：,，0123456789")


class _Index:
    """Routes grouped by what they match, built once on first use."""

    def __init__(self, routes: list[Route]) -> None:
        self.states: dict[str, list[Route]] = {}
        self.events: dict[str, list[Route]] = {}
        self.intents: dict[str, list[Route]] = {}
        # Command word → routes, looked up by the text's prefixes of each command length:
        # every message passes here, so no scan over all the commands.
        self.commands: dict[str, list[Route]] = {}
        self.fallbacks = [route for route in routes if route.fallback]
        for route in routes:
            if route.state is not None:
                self.states.setdefault(route.state, []).append(route)
            for name in route.events:
                self.events.setdefault(name, []).append(route)
            for intent in route.intents:
                self.intents.setdefault(intent, []).append(route)
            for command in route.commands:
                self.commands.setdefault(command, []).append(route)
        self._lengths = sorted({len(command) for command in self.commands})
        self._order = {id(route): n for n, route in enumerate(routes)}

    def commanded(self, text: str) -> list[Route]:
        """Routes whose command `text` is: alone or with arguments (接单 #12), not a sentence
        (接单了吗); in registration order."""
        text = text.strip()
        found: list[Route] = []
        for length in self._lengths:
            if len(text) > length and text[length] not in _COMMAND_FOLLOWERS:
                continue
            for route in self.commands.get(text[:length], ()):
                if route not in found:
                    found.append(route)
        return sorted(found, key=lambda route: self._order[id(route)])
