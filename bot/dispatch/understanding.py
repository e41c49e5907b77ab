"""The message parser behind the dispatcher: built once off the event loop, then kept learning
the compounds created while the process runs."""

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

logger = logging.getLogger(__name__)

COMPOUND_REFRESH = 60.0  # seconds


class TextParser(Protocol):
    def parse(self, text: str, now: datetime) -> Parse: ...

    def add_compounds(self, names: Iterable[str]) -> None: ...


@asynccontextmanager
async def understanding(
    config: Config, db: Database, parser: TextParser | None = None
) -> AsyncIterator[TextParser]:
    """The parser (built with the database's compounds unless one is given), learning the
    compounds created elsewhere until the block ends."""
    compounds: list[str] = []
    if parser is None:
        async with db.transaction() as session:
            compounds = await org.compound_names(session=session)
        parser = await asyncio.to_thread(build_parser, config, compounds)
    refresher = asyncio.ensure_future(_learn_new_compounds(db, parser, set(compounds)))
    try:
        yield parser
    finally:
        refresher.cancel()
        await asyncio.gather(refresher, return_exceptions=True)


async def _learn_new_compounds(db: Database, parser: TextParser, known: set[str]) -> None:
    # Compounds created elsewhere (an import, another process) become known to the parser,
    # so 我住新小区3号楼 binds without a restart.
    while True:
        try:
            async with db.transaction() as session:
                names = set(await org.compound_names(session=session))
            if names - known:
                parser.add_compounds(sorted(names - known))
                known |= names
        except Exception as exc:  # the database may be briefly away; try again next round
            logger.warning("could not refresh compound names: %s", exc.__class__.__name__)
        await asyncio.sleep(COMPOUND_REFRESH)


def build_parser(config: Config, compounds: list[str]) -> TextParser:
    """The message parser with the lexicon and compound names (slow: run it off the loop)."""
    from nlp import Parser

    extra = Path(config.nlp.extra_lexicon) if config.nlp.extra_lexicon else None
    parser = Parser(extra_lexicon=extra)
    parser.add_compounds(compounds)
    return parser
