"""`jinlin qrcode --compound NAME`: the compound's QR code as a PNG for a poster at its gate."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core.config import Config
from bot.runtime import open_configured, prepare_database
from bot.wechat.client import WeChatClient
from bot.wechat.qrcode import compound_qrcode
from storage import org
from storage.db import Database
from storage.errors import InvalidInput
from storage.org import Place


def qrcode(config: Config, compound: str, community: str | None, out: str | None) -> int:
    """Create the compound's QR code with WeChat and write it as a PNG; exit code."""
    path, place = asyncio.run(_make(config, compound.strip(), community, out))
    print(
        f"wrote {path}: the QR code of {place.compound} ({place.community}); "
        "a resident who scans it is bound to this compound"
    )
    return 0


async def _make(
    config: Config, name: str, community: str | None, out: str | None
) -> tuple[Path, Place]:
    db = await open_configured(config)
    try:
        await prepare_database(db, config)
        place = await _find(db, name, community)
        async with WeChatClient(config.wechat, db) as client:
            png = await compound_qrcode(client=client, place=place)
    finally:
        await db.close()
    path = Path(out) if out else Path(f"qrcode-{place.compound}.png")
    try:
        await asyncio.to_thread(path.write_bytes, png)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    return path, place


async def _find(db: Database, name: str, community: str | None) -> Place:
    async with db.transaction() as session:
        named = await org.named_places(session=session)
    found = {
        place.compound_id: place
        for alias, place in named
        if alias == name and community in (None, place.community)
    }
    if not found:
        known = "、".join(sorted({place.compound for _, place in named})) or "none yet"
        raise InvalidInput(f'no compound called "{name}" (known: {known})')
    if len(found) > 1:
        where = ", ".join(sorted(place.community for place in found.values()))
        raise InvalidInput(f'several compounds are called "{name}" (in {where}): add --community')
    return next(iter(found.values()))
