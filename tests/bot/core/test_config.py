"""Configuration: the example file works as-is, env overrides, one-line errors naming the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.config import find_config_file, load_config, parse_duration
from bot.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "config.example.toml"


def test_example_config_is_valid_and_documents_every_key() -> None:
    config = load_config(EXAMPLE, env={})
    text = EXAMPLE.read_text()
    for section, model in config:
        assert f"[{section}]" in text
        for key in type(model).model_fields:
            assert f"\n{key} =" in text, f"{section}.{key} is not documented in the example"


def test_environment_overrides_the_file() -> None:
    config = load_config(
        EXAMPLE,
        env={
            "JINLIN_WECHAT__SECRET": "s3cret",
            "JINLIN_SERVER__PORT": "9001",
            "JINLIN_SERVER__REUSE_PORT": "true",
            "JINLIN_ADMIN__OPENIDS": "o1, o2",
            "JINLIN_ROUTING__OFFER_TIMEOUT": "90s",
            "JINLIN_CONFIG": "ignored.toml",
        },
    )
    assert config.wechat.secret == "s3cret"
    assert config.server.port == 9001 and config.server.reuse_port
    assert config.admin.openids == ["o1", "o2"]
    assert config.routing.offer_timeout == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("written", "url"),
    [
        ("sqlite:///jinlin.db", "sqlite+aiosqlite:///jinlin.db"),
        ("sqlite:////var/lib/jinlin/j.db", "sqlite+aiosqlite:////var/lib/jinlin/j.db"),
        ("postgresql://jinlin@db.local/jinlin", "postgresql+asyncpg://jinlin@db.local/jinlin"),
        ("postgres://u:p@h:5433/d", "postgresql+asyncpg://u:p@h:5433/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_as_people_write_them_get_the_async_driver(written: str, url: str) -> None:
    assert load_config(EXAMPLE, env={"JINLIN_DATABASE__URL": written}).database.url == url


@pytest.mark.parametrize(
    ("written", "openids"),
    [
        ('["o1", "o2"]', ["o1", "o2"]),
        (' [ "o,1" ] ', ["o,1"]),
        ("[]", []),
        ("o1,o2", ["o1", "o2"]),
        ("o1", ["o1"]),
    ],
)
def test_list_values_in_the_environment_may_be_json(written: str, openids: list[str]) -> None:
    assert load_config(EXAMPLE, env={"JINLIN_ADMIN__OPENIDS": written}).admin.openids == openids


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"JINLIN_SERVER__PORT": "eighty"}, "server.port"),
        ({"JINLIN_WECHAT__MODE": "aes"}, "wechat.mode"),
        ({"JINLIN_WECHAT__MODE": "safe"}, "encoding_aes_key"),
        ({"JINLIN_ROUTING__OFFER_TIMEOUT": "ten minutes"}, "routing.offer_timeout"),
        ({"JINLIN_SERVER__PROT": "1"}, "server.prot: unknown key"),
        ({"JINLIN_NOPE__X": "1"}, "[nope]"),
        ({"JINLIN_DATABASE__URL": "mysql://db"}, "database"),
        ({"JINLIN_ORG__TIMEZONE": "Mars/Olympus"}, "timezone"),
        ({"JINLIN_ADMIN__OPENIDS": '["o1", '}, "admin.openids: not a JSON list"),
        ({"JINLIN_ORG__COMPOUNDS": "[1, 2]"}, "org.compounds"),
    ],
)
def test_bad_values_name_the_key_in_one_line(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE, env=env)
    message = str(caught.value)
    assert names in message and "\n" not in message


def test_config_file_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        find_config_file(None, {})
    (tmp_path / "config.toml").write_text(EXAMPLE.read_text())
    assert find_config_file(None, {}) == Path("config.toml")
    assert find_config_file(None, {"JINLIN_CONFIG": str(EXAMPLE)}) == EXAMPLE
    assert find_config_file(str(EXAMPLE), {"JINLIN_CONFIG": "x"}) == EXAMPLE


def test_bad_toml_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "c.toml"
    broken.write_text("[server\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, env={})


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("3d", 259200), ("1.5m", 90)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_cli_exits_non_zero_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text(EXAMPLE.read_text().replace('mode = "plain"', 'mode = "aes"'))
    assert main(["db", "upgrade", "--config", str(bad)]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("jinlin: config: wechat.mode") and "\n" not in err
    assert main(["db", "upgrade", "--config", str(tmp_path / "missing.toml")]) != 0
    assert "config file not found" in capsys.readouterr().err
