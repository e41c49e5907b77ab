"""The message parser behind the dispatcher: built once off the event loop, then kept in step
with the compounds and aliases the database knows, whoever added them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.core.config import Config
from nlp import Parse
from storage import org
from storage.db import Database
from storage.org import Place
from storage.sql import Executor

logger = logging.getLogger(__name__)


class TextParser(Protocol):
    def parse(self, text: str, now: datetime) -> Parse: ...

    def add_compounds(self, names: Iterable[str]) -> None: ...


class KnownPlaces:
    """The parser with the database's place names, caught up whenever the places version moves;
    and those places, so that finding the compound a message names costs no statement.

    Compounds created by an import, the console or another server process bump the version in
    the transaction that creates them (storage/models.py: PlaceVersion), so one small read per
    batch of messages tells every process, from the next message on, that it has names to learn.
    """

    def __init__(
        self, parser: TextParser, named: Iterable[tuple[str, Place]] = (), version: int = -1
    ) -> None:
        self.parser = parser
        self._named = list(named)
        self._names = {name for name, _ in self._named}
        self._version = version

    async def catch_up(self, session: Executor) -> bool:
        """Read the version; on a change, read the places and teach the parser their new names.
        True if it learnt any."""
        version = await org.places_version(session=session)
        if version == self._version:
            return False
        self._named = await org.named_places(session=session)
        names = {name for name, _ in self._named}
        new = names - self._names
        if new:
            logger.info("learnt %d new place names", len(new))
            self.parser.add_compounds(sorted(new))
        self._names |= names
        self._version = version
        return bool(new)

    def find(self, name: str) -> Place | None:
        """The compound called `name`, as storage.org.find_compound would find it then."""
        return org.pick_compound(self._named, name)


@asynccontextmanager
async def understanding(
    config: Config, db: Database, parser: TextParser | None = None
) -> AsyncIterator[KnownPlaces]:
    """The parser (built with the database's place names unless one is given) and what keeps
    it in step."""
    if parser is not None:
        yield KnownPlaces(parser)  # learns every name with the first batch
        return
    async with db.transaction() as session:
        version = await org.places_version(session=session)
        named = await org.named_places(session=session)
    built = await asyncio.to_thread(build_parser, config, [name for name, _ in named])
    yield KnownPlaces(built, named, version)


def build_parser(config: Config, compounds: list[str]) -> TextParser:
    """The message parser with the lexicon and compound names (slow: run it off the loop)."""
    from nlp import Parser

    extra = Path(config.nlp.extra_lexicon) if config.nlp.extra_lexicon else None
    parser = Parser(extra_lexicon=extra)
    parser.add_compounds(compounds)
    return parser
