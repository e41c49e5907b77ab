"""Which waiting messages the dispatcher handles together next.

Messages that arrive together share one transaction (group commit), but a help request costs
ten times what a greeting does (routing, offers, notices), and every reply of a batch waits
for its commit. So the cheap messages go first, together, and the expensive ones follow a few
at a time: a greeting that came with help requests is answered before they are routed, and
one arriving meanwhile waits for at most MAX_HEAVY of them. A sender's own messages keep
their order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

MAX_BATCH = 64  # cheap messages in one transaction
# Expensive messages in one transaction. Each transaction has a fixed cost (about 1.5 ms of
# CPU: the users touched, the keys recorded, the commit), so smaller groups cost throughput;
# measured on the real mix in process (issue 15): 2.5 ms of CPU a message with every help
# request of a batch together, 2.85 with 8, 3.8 with 2 to 4, 5.2 with 1. With 8, a greeting
# arriving while help requests are routed waits for at most eight of them (about 20 ms),
# and one that came in the same batch waits for none.
MAX_HEAVY = 8
HEAVY_INTENTS = frozenset({"request_help"})


class Waiting(Protocol):
    @property
    def sender(self) -> str: ...
    @property
    def heavy(self) -> bool: ...


J = TypeVar("J", bound=Waiting)


def next_batch(pending: Sequence[J]) -> tuple[list[J], list[J]]:
    """The jobs to run now and those left waiting, each in arrival order: every cheap job not
    queued behind an expensive one of its sender (up to MAX_BATCH); when there is none, the
    expensive jobs at the head of the queue (up to MAX_HEAVY)."""
    chosen: list[J] = []
    left: list[J] = []
    held: set[str] = set()
    for job in pending:
        if job.heavy:
            held.add(job.sender)
        if not job.heavy and job.sender not in held and len(chosen) < MAX_BATCH:
            chosen.append(job)
        else:
            left.append(job)
    if chosen:
        return chosen, left
    heads = 0
    while heads < min(MAX_HEAVY, len(pending)) and pending[heads].heavy:
        heads += 1
    heads = max(heads, 1)
    return list(pending[:heads]), list(pending[heads:])
