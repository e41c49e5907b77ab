"""Who the help is for, when it is not the sender (我妈, 楼下王奶奶, 邻居)."""

from __future__ import annotations

import re
from typing import Any


def _alternation(words: Any) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


class BeneficiaryReader:
    """Finds the first person a message asks help for, as written (in simplified form)."""

    def __init__(self, table: dict[str, Any]) -> None:
        self._kin = frozenset(table["kin"])
        self._verbs = tuple(table["help_verbs"])
        self._absent = tuple(table.get("absent", ()))
        # Find the person word first (a short list of leading characters the regex engine
        # scans for quickly), then look just before it for an owner/place and a surname.
        self._who = re.compile(_alternation([*table["kin"], *table["titles"]]))
        self._before = re.compile(
            rf"(?P<pre>{_alternation(table['prefixes'])})?(?P<sur>[{table['surnames']}])?$"
        )

    def read(self, text: str) -> str | None:
        """The short phrase naming who is helped, or None when it is the sender."""
        for m in self._who.finditer(text):
            head = text[max(0, m.start() - 6) : m.start()]
            lead = self._before.search(head)
            start = m.start() - (len(lead.group()) if lead else 0)
            before, after = text[:start], text[m.end() :]
            if before.endswith("是") or after.startswith(self._absent):
                continue  # 我是单亲妈妈 / 老公出差了: not who the help is for
            titled = (lead and (lead.group("pre") or lead.group("sur"))) or before.endswith(
                self._verbs
            )
            if m.group() in self._kin or titled:
                return text[start : m.end()]
        return None
