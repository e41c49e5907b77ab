"""What the console keeps per request: the logged-in community worker."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from storage.accounts import Where


@dataclass(frozen=True)
class Admin:
    """The logged-in community worker of a request."""

    account_id: int
    username: str
    where: Where
    csrf: str
    token_hash: str

    @property
    def actor(self) -> str:
        """How the worker appears in a request's history."""
        return f"admin:{self.username}"


ADMIN = web.RequestKey("console_admin", Admin)


def admin_of(request: web.Request) -> Admin:
    """The logged-in worker (the guard let the request through)."""
    return request[ADMIN]
