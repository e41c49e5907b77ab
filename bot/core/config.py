"""The typed configuration: a TOML file with JINLIN_<SECTION>__<KEY> environment overrides."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from bot.core.errors import ConfigError

ENV_PREFIX = "JINLIN_"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> timedelta:
    """Read "90s", "10m", "2h", "3d" (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f'not a duration: {value!r} (write it like "90s", "10m", "2h", "3d")')
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


def _comma_list(value: Any) -> Any:
    # Environment variables carry lists as "a,b,c" or as a JSON list '["a", "b"]'.
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(
                f'not a JSON list: {value!r} (write it like ["a", "b"] or a,b)'
            ) from None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# People write database URLs the way their tools print them; the engine needs the driver.
_URL_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
DRIVER_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")


def _database_url(value: Any) -> Any:
    if not isinstance(value, str) or "://" not in value:
        return value
    scheme, rest = value.split("://", 1)
    return f"{_URL_SCHEMES.get(scheme.lower(), scheme)}://{rest}"


def _clock(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise ValueError(f'not a time of day: {value!r} (write it like "08:00")') from None
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
StrList = Annotated[list[str], BeforeValidator(_comma_list)]
Clock = Annotated[time, BeforeValidator(_clock)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    reply_deadline: Duration = timedelta(seconds=4)
    replay_window: Duration = timedelta(minutes=5)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    reuse_port: bool = False


class DatabaseConfig(Section):
    url: Annotated[str, BeforeValidator(_database_url)] = "sqlite+aiosqlite:///jinlin.db"

    @model_validator(mode="after")
    def _known_driver(self) -> DatabaseConfig:
        if not self.url.startswith(tuple(f"{scheme}://" for scheme in DRIVER_SCHEMES)):
            raise ValueError(
                f"url must start with sqlite:// or postgresql:// (got {self.url.split('://')[0]!r})"
            )
        return self


class WeChatConfig(Section):
    appid: str = "wx0000000000000000"
    secret: str = ""
    token: str = Field(min_length=3, max_length=32)
    encoding_aes_key: str = ""
    mode: Literal["plain", "compat", "safe"] = "plain"
    api_base_url: str = "https://api.weixin.qq.com"
    template_id: str = ""
    token_refresh_margin: Duration = timedelta(minutes=5)
    # Which of WeChat's quotas apply (shared/spec/wechat.md): a verified service account
    # (服务号) or a subscription account (订阅号).
    account_type: Literal["service", "subscription"] = "service"

    @model_validator(mode="after")
    def _key_fits_mode(self) -> WeChatConfig:
        if self.mode != "plain" and len(self.encoding_aes_key) != 43:
            raise ValueError(
                f"encoding_aes_key must be 43 characters for mode {self.mode!r} "
                f"(got {len(self.encoding_aes_key)})"
            )
        return self


class AdminConfig(Section):
    openids: StrList = []


class OrgConfig(Section):
    street: str = "默认街道"
    community: str = "默认社区"
    compounds: StrList = []
    timezone: str = "Asia/Shanghai"

    @model_validator(mode="after")
    def _known_zone(self) -> OrgConfig:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not a known time zone") from None
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RoutingConfig(Section):
    offer_batch: int = Field(3, ge=1, le=50)
    offer_timeout: Duration = timedelta(minutes=10)
    urgent_offer_timeout: Duration = timedelta(minutes=1)
    task_limit: int = Field(2, ge=1, le=20)
    credited_hours: float = Field(1.0, ge=0)


class FollowupsConfig(Section):
    reminder_before: Duration = timedelta(hours=1)
    overdue_after: Duration = timedelta(hours=2)
    satisfaction_delay: Duration = timedelta(minutes=10)
    auto_close_after: Duration = timedelta(days=3)
    digest_at: Clock = time(8, 0)
    poll_interval: Duration = timedelta(seconds=2)


class PrivacyConfig(Section):
    retention: Duration = timedelta(days=180)


class ConsoleConfig(Section):
    session_idle: Duration = timedelta(hours=2)
    session_max: Duration = timedelta(hours=12)
    login_failures: int = Field(5, ge=1, le=100)
    address_failures: int = Field(30, ge=1, le=10_000)
    login_lockout: Duration = timedelta(minutes=15)
    link_code_ttl: Duration = timedelta(minutes=10)
    board_refresh: Duration = timedelta(seconds=15)


class BroadcastConfig(Section):
    calls_per_minute: int = Field(50, ge=1)  # WeChat allows 60; the margin is for retries
    batch_size: int = Field(10_000, ge=2, le=10_000)  # openids per mass-send call


class NlpConfig(Section):
    extra_lexicon: str = ""


class Config(Section):
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    wechat: WeChatConfig
    admin: AdminConfig = AdminConfig()
    org: OrgConfig = OrgConfig()
    routing: RoutingConfig = RoutingConfig()
    followups: FollowupsConfig = FollowupsConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    broadcast: BroadcastConfig = BroadcastConfig()
    nlp: NlpConfig = NlpConfig()
    console: ConsoleConfig = ConsoleConfig()


def find_config_file(explicit: str | None, env: Mapping[str, str]) -> Path:
    """The --config file, else $JINLIN_CONFIG, else ./config.toml."""
    candidate = explicit or env.get("JINLIN_CONFIG") or "config.toml"
    path = Path(candidate)
    if not path.is_file():
        how = (
            "" if explicit or env.get("JINLIN_CONFIG") else " (pass --config or set JINLIN_CONFIG)"
        )
        raise ConfigError(f"config file not found: {path}{how}")
    return path


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file, apply environment overrides, validate into a Config."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    _apply_env(data, env)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc)) from None


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if section not in Config.model_fields:
            raise ConfigError(f"{name}: there is no config section [{section}]")
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"config: {section} must be a section")
        target[key] = value


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required"
    got = error.get("input")
    shown = f" (got {got!r})" if error["type"] not in ("missing", "value_error") and got else ""
    return f"config: {where or 'file'}: {message}{shown}"
