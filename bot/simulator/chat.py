"""Every persona's chat with the account, and the feed that tells open pages what changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.types import utcnow

logger = logging.getLogger(__name__)

KEEP = 5000  # entries kept over all personas; the oldest go first
QUEUE = 1000  # changes an open page may lag behind before it misses some


@dataclass(frozen=True)
class Entry:
    """One bubble: what a persona did, what the account sent them, or WeChat's own notice."""

    id: int
    openid: str
    side: str  # "user", "bot" or "note"
    kind: str  # user: text/voice/location/click/subscribe/unsubscribe; bot: reply/custom/template/mass
    text: str
    at: datetime
    fields: tuple[tuple[str, str], ...] = ()  # a template message's fields, in order

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "openid": self.openid,
            "side": self.side,
            "kind": self.kind,
            "text": self.text,
            "at": self.at.isoformat(),
            "fields": [list(f) for f in self.fields],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        fields = tuple((str(k), str(v)) for k, v in data.get("fields", ()))
        return cls(
            int(data["id"]),
            str(data["openid"]),
            str(data["side"]),
            str(data["kind"]),
            str(data["text"]),
            datetime.fromisoformat(data["at"]),
            fields,
        )


@dataclass(frozen=True)
class Change:
    """What an open page must redraw: a new entry, a persona's status, the menu, the faults."""

    what: str  # "entry", "status", "menu" or "faults"
    openid: str | None = None
    entry: Entry | None = None


@dataclass
class ChatLog:
    """The chats, what each persona has seen of theirs, and the pages listening for changes."""

    entries: list[Entry] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # openid → last entry id shown
    version: int = 0  # grows with every change, so a saver knows when to write
    _listeners: set[asyncio.Queue[Change]] = field(default_factory=set)

    def add(
        self,
        openid: str,
        side: str,
        kind: str,
        text: str,
        fields: Iterable[tuple[str, str]] = (),
    ) -> Entry:
        """Append an entry and tell the listening pages."""
        next_id = self.entries[-1].id + 1 if self.entries else 1
        entry = Entry(next_id, openid, side, kind, text, utcnow(), tuple(fields))
        self.entries.append(entry)
        del self.entries[:-KEEP]
        self.publish(Change("entry", openid, entry))
        return entry

    def of(self, openid: str) -> list[Entry]:
        """One persona's chat, oldest first."""
        return [e for e in self.entries if e.openid == openid]

    def mark_seen(self, openid: str, upto: int | None = None) -> None:
        """The persona's chat was shown up to entry `upto` (default: all of it)."""
        last = upto if upto is not None else max((e.id for e in self.of(openid)), default=0)
        if last > self.seen.get(openid, 0):
            self.seen[openid] = last
            self.version += 1

    def unread(self) -> dict[str, int]:
        """How many messages from the account each persona has not been shown."""
        counts: dict[str, int] = {}
        for e in self.entries:
            if e.side == "bot" and e.id > self.seen.get(e.openid, 0):
                counts[e.openid] = counts.get(e.openid, 0) + 1
        return counts

    # --- listeners -----------------------------------------------------------------------

    def changed(self) -> None:
        """Something worth saving changed that no page shows (a token, a tag)."""
        self.version += 1

    def publish(self, change: Change) -> None:
        """Tell every listening page (a page too far behind misses the change)."""
        self.version += 1
        for queue in self._listeners:
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:
                logger.warning("a simulator page is not keeping up; it missed a change")

    def listen(self) -> asyncio.Queue[Change]:
        """A queue of the changes from now on; give it back with `stop_listening`."""
        queue: asyncio.Queue[Change] = asyncio.Queue(QUEUE)
        self._listeners.add(queue)
        return queue

    def stop_listening(self, queue: asyncio.Queue[Change]) -> None:
        self._listeners.discard(queue)

    # --- across restarts -----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"entries": [e.to_json() for e in self.entries], "seen": self.seen}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChatLog:
        """The log saved by `to_json`; KeyError, TypeError or ValueError if it is not one."""
        entries = [Entry.from_json(e) for e in data["entries"]]
        return cls(entries, {str(k): int(v) for k, v in data["seen"].items()})
