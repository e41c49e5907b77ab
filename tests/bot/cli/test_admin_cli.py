"""`jinlin admin add` and `jinlin admin list`: accounts with a hashed password and a scope."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.web.console import passwords
from storage import accounts
from storage.db import open_database


def _config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[wechat]\ntoken = "tok-en"\n'
        '[org]\nstreet = "示范街道"\ncommunity = "东社区"\ncompounds = ["阳光花园"]\n',
        encoding="utf-8",
    )
    return path


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def _account(db_url: str, username: str) -> accounts.AdminAccount | None:
    db = open_database(db_url)
    try:
        async with db.transaction() as session:
            return await accounts.by_username(session=session, username=username)
    finally:
        await db.close()


def test_admin_add_stores_a_salted_slow_hash_and_the_scope(
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(_config(tmp_path, sqlite_url))
    add = ("admin", "add", "--config", config, "--password-stdin")
    code, out, _ = _run(monkeypatch, capsys, "s3cret-pass\n", *add, "wang", "--community", "东社区")
    assert code == 0 and "admin wang added: 东社区" in out
    code, out, _ = _run(monkeypatch, capsys, "s3cret-pass\n", *add, "li", "--openid", "oLi")
    assert code == 0 and "全街道" in out and "linked to oLi" in out
    wang = asyncio.run(_account(sqlite_url, "wang"))
    li = asyncio.run(_account(sqlite_url, "li"))
    assert wang is not None and li is not None
    assert wang.password_hash.startswith("scrypt$") and "s3cret" not in wang.password_hash
    assert wang.password_hash.split("$")[4] != li.password_hash.split("$")[4]  # own salts
    assert passwords.verify_password("s3cret-pass", wang.password_hash)
    assert not passwords.verify_password("s3cret-pasS", wang.password_hash)
    assert wang.community_id is not None and li.community_id is None and li.openid == "oLi"
    code, out, _ = _run(monkeypatch, capsys, "", "admin", "list", "--config", config)
    assert (
        code == 0 and "wang\t东社区\tnot linked" in out and "li\t示范街道（全街道）\tlinked" in out
    )


@pytest.mark.parametrize(
    ("stdin", "extra", "reason"),
    [
        ("short\n", ("x",), "at least 8 characters"),
        ("s3cret-pass\n", ("x", "--community", "无此社区"), "no community named '无此社区'"),
        ("s3cret-pass\n", ("x", "--street", "无此街道"), "no street named '无此街道'"),
        ("s3cret-pass\n", ("bad name",), "a username is"),
    ],
)
def test_admin_add_refuses_bad_input_with_one_line(
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: str,
    extra: tuple[str, ...],
    reason: str,
) -> None:
    config = str(_config(tmp_path, sqlite_url))
    code, _, err = _run(
        monkeypatch, capsys, stdin, "admin", "add", "--config", config, "--password-stdin", *extra
    )
    assert code == 2 and reason in err and len(err.strip().splitlines()) == 1


def test_admin_add_twice_needs_update(
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(_config(tmp_path, sqlite_url))
    add = ("admin", "add", "--config", config, "--password-stdin", "wang")
    assert _run(monkeypatch, capsys, "s3cret-pass\n", *add)[0] == 0
    code, _, err = _run(monkeypatch, capsys, "other-pass\n", *add)
    assert code == 2 and "--update" in err
    code, out, _ = _run(
        monkeypatch, capsys, "other-pass\n", *add, "--update", "--community", "东社区"
    )
    assert code == 0 and "updated: 东社区" in out
    code, _, err = _run(monkeypatch, capsys, "", "admin", "add", "--config", config, "wang")
    assert code == 2 and "--password-stdin" in err
