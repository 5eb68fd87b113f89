"""Process settings from ``ALERTD_*`` variables, a ``.env`` file and ``*_FILE`` secrets (SPEC §7)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alertd.environ import (
    CALENDAR_MAX_BYTES,
    DEFAULT_CALENDAR,
    DEFAULT_DATABASE_URL,
    DEFAULT_TIMEZONE,
    DEFAULT_TZDATA,
    PREFIX,
    SECRET_FIELDS,
    calendar_environ,
    setting_names,
)
from alertd.errors import ConfigError, FileReadError
from alertd.files import SECRET_MAX_BYTES, read_text
from alertd.timeexpr import ZoneError, use_tzdata, zone

__all__ = ["CALENDAR_MAX_BYTES", "Settings", "calendar_environ", "load_settings", "parse_duration", "setting_names"]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_SECRET_NAMES = SECRET_FIELDS
# A feed token travels in a URL path (calendar apps cannot send headers), so it must be long enough not to guess.
FEED_TOKEN_MIN = 16
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse ``6h``, ``90m``, ``1d12h``, ``30s`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return timedelta(seconds=float(text))
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"bad duration {value!r}: write e.g. 6h, 90m, 1d12h or a number of seconds")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


class Settings(BaseSettings):
    """Every process setting; see ``config/.env.example`` for the documented list."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    calendar: Path = Path(DEFAULT_CALENDAR)
    # Files larger than this are refused before parsing (docs/security.md, bounds).
    calendar_max_bytes: int = Field(default=CALENDAR_MAX_BYTES, ge=1)
    # A calendar load or reload taking longer (a slow disk or file system) is rejected; the last good one runs on.
    calendar_load_timeout: float = Field(default=60.0, gt=0)
    # When set, the calendar's ``*_file`` keys may only read files inside this directory (symlinks resolved).
    secrets_dir: Path | None = None
    # Which zone database plans every instant: the tzdata package pinned with alertd (the same everywhere) or the
    # system's zone files (updated with the OS). Applied by load_settings (alertd.timeexpr.use_tzdata).
    tzdata: Literal["package", "system"] = DEFAULT_TZDATA
    timezone: str = DEFAULT_TIMEZONE
    catch_up: timedelta = timedelta(hours=6)
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    http_timeout: float = Field(default=15.0, gt=0)
    # false: HTTP deliveries to loopback, private, link-local, multicast or reserved addresses fail permanently
    # (checked on the address actually dialled). True by default, as self-hosted receivers are often local.
    allow_private_targets: bool = True
    max_attempts: int = Field(default=10, ge=1)
    retry_base: float = Field(default=2.0, gt=0)
    retry_cap: float = Field(default=3600.0, gt=0)
    lease: float = Field(default=120.0, gt=0)
    batch_size: int = Field(default=200, ge=1, le=5000)
    concurrency: int = Field(default=10, ge=1, le=500)
    max_sleep: float = Field(default=60.0, gt=0)
    reload_interval: float = Field(default=2.0, gt=0)
    drain_timeout: float = Field(default=10.0, ge=0)
    late_after: timedelta = timedelta(seconds=60)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    # Server certificates are verified against the system CAs, or only against smtp_ca_file (a private CA) when set.
    smtp_ca_file: Path | None = None
    smtp_verify: bool = True
    smtp_timeout: float = Field(default=30.0, gt=0)
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, ge=0, le=65535)
    # Bearer tokens of the HTTP API: api_token may read and write, api_read_token may only read.
    api_token: SecretStr | None = None
    api_read_token: SecretStr | None = None
    # The secret in the calendar feed's URL (/calendar/<feed_token>.ics); unset: no such URL. Change it to revoke.
    feed_token: SecretStr | None = None
    # uvicorn's access log, one line per request (feed tokens redacted).
    http_access_log: bool = False

    @field_validator("catch_up", "late_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("feed_token")
    @classmethod
    def _feed_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        text = value.get_secret_value()
        if len(text) < FEED_TOKEN_MIN or not _URL_SAFE.fullmatch(text):
            raise ValueError(
                f"must be at least {FEED_TOKEN_MIN} characters of A-Z, a-z, 0-9, '-', '_', '.', '~' (it is a "
                "password in a URL); e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))'"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except ZoneError as exc:
            raise ValueError(str(exc)) from None
        return value


def _file_secrets(environ: dict[str, str]) -> dict[str, Any]:
    """Read ``ALERTD_<NAME>_FILE`` variables: the secret is the file's content without its final newline."""
    found: dict[str, Any] = {}
    for name in _SECRET_NAMES:
        var = f"ALERTD_{name.upper()}_FILE"
        path = environ.get(var)
        if not path:
            continue
        try:
            found[name] = read_text(Path(path), max_bytes=SECRET_MAX_BYTES).rstrip("\r\n")
        except FileReadError as exc:
            raise ConfigError(f"{var}: cannot read {path}: {exc}") from None
    return found


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment and put the chosen zone database in use; one-line ConfigError on any
    bad value."""
    values = _file_secrets(dict(os.environ))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"ALERTD_{field.upper()}: {err['msg']}") from None
    try:
        use_tzdata(settings.tzdata)
    except ZoneError as exc:
        raise ConfigError(f"ALERTD_TZDATA: {exc}") from None
    try:
        # Checked again in the database now in use: the two may not know the same zones.
        zone(settings.timezone)
    except ZoneError as exc:
        raise ConfigError(f"ALERTD_TIMEZONE: {exc}") from None
    return settings
