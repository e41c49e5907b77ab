"""Shared fixtures: real databases (SQLite file, local PostgreSQL) and no network but loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Config, load_config
from storage import migrate
from storage.db import Database, open_database

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("JINLIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    # Tests must never reach the real WeChat (or anything else off this machine).
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise OSError(f"tests may only connect to loopback, not {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


def make_config(**sections: dict[str, Any]) -> Config:
    """The example config with some sections' keys replaced."""
    config = load_config(REPO / "config.example.toml", env={})
    data = config.model_dump()
    for name, values in sections.items():
        data[name] = {**data[name], **values}
    return Config.model_validate(data)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end)."""
    import psycopg

    name = f"jinlin_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not running at {PG_ADMIN_URL}: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            + "/"
            + name
        )
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


async def _truncate(db: Database) -> None:
    from sqlalchemy import text
    from sqlmodel import SQLModel

    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database URL: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}"
        db = open_database(url)
        await migrate.upgrade(db)
    else:
        url = request.getfixturevalue("pg_server")
        db = open_database(url)
        await migrate.upgrade(db)
        await _truncate(db)
    await db.close()
    yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """An open Database on each backend."""
    database = open_database(db_url)
    yield database
    await database.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite URL for a file that does not exist yet."""
    return f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}"


@pytest.fixture(scope="session")
def parser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real message parser, built once per test session."""
    from nlp import Parser

    built = Parser(cache_dir=tmp_path_factory.mktemp("jieba"))
    built.add_compounds(["阳光花园", "幸福里"])
    return built
