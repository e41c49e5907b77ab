"""`jinlin db upgrade`: apply the schema migrations."""

from __future__ import annotations

import asyncio

from bot.core.config import Config
from bot.runtime import open_configured
from storage import migrate


def upgrade(config: Config) -> int:
    """Migrate the configured database to the code's schema and print its revision."""

    async def run() -> str | None:
        db = await open_configured(config)
        try:
            await migrate.upgrade(db)
            return await migrate.current_revision(db)
        finally:
            await db.close()

    revision = asyncio.run(run())
    print(f"database is at revision {revision}")
    return 0
