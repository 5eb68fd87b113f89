"""Process settings from ``ALERTD_*`` variables, a ``.env`` file and ``*_FILE`` secrets (SPEC §7)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

__all__ = [
    "CALENDAR_MAX_BYTES",
    "MIN_TOKEN_LENGTH",
    "Settings",
    "calendar_environ",
    "load_settings",
    "parse_duration",
    "setting_names",
]

# Upper bounds keep every setting inside what timers and date arithmetic can hold (an "inf" or 1e300 seconds
# would pass "> 0" and crash the daemon later, far from the setting's name).
_HOUR, _DAY, _WEEK = 3600.0, 86400.0, 7 * 86400.0
_MAX_DURATION = timedelta(days=3660)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_SECRET_NAMES = SECRET_FIELDS
MIN_TOKEN_LENGTH = 16
# A feed token travels in a URL path (calendar apps cannot send headers), so it must be long enough not to guess.
FEED_TOKEN_MIN = MIN_TOKEN_LENGTH
# A shorter key could be found by search; 32 characters of token_urlsafe are 192 bits.
SECRET_KEY_MIN = 32
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
# An http(s) origin with an optional path prefix (a reverse proxy's sub-path), nothing a link could not extend.
_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?")
_MAKE_TOKEN = "make one with: openssl rand -hex 32"
# Words that example files and tutorials put where a token goes (compared without case, spaces or punctuation).
_PLACEHOLDERS = ("changeme", "replaceme", "placeholder", "yourtoken", "yoursecret", "secret", "token", "password")
_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9_.:-]+)$")


def _is_placeholder(token: str) -> bool:
    letters = re.sub(r"[^a-z0-9]", "", token.lower())
    # A run of one character, or nothing but placeholder words and digits ("change-me-please", "secret-token-123").
    if len(set(letters)) <= 2:
        return True
    rest = letters
    for word in (*_PLACEHOLDERS, "please", "here", "the", "api", "alertd", "example", "read", "write", "my"):
        rest = rest.replace(word, "")
    return rest.isdigit() or not rest or "changeme" in letters or "replaceme" in letters


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse ``6h``, ``90m``, ``1d12h``, ``30s`` or a number of seconds."""
    try:
        result = _duration(value)
    except OverflowError:
        result = _MAX_DURATION * 2
    if not timedelta(0) <= result <= _MAX_DURATION:
        raise ValueError(f"duration out of range: at most {_MAX_DURATION.days} days")
    return result


def _duration(value: str | int | float | timedelta) -> timedelta:
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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    http_timeout: float = Field(default=15.0, gt=0, le=_HOUR, allow_inf_nan=False)
    # false: HTTP deliveries to loopback, private, link-local, multicast or reserved addresses fail permanently
    # (checked on the address actually dialled). True by default, as self-hosted receivers are often local.
    allow_private_targets: bool = True
    max_attempts: int = Field(default=10, ge=1, le=1000)
    retry_base: float = Field(default=2.0, gt=0, le=_HOUR, allow_inf_nan=False)
    retry_cap: float = Field(default=3600.0, gt=0, le=_WEEK, allow_inf_nan=False)
    lease: float = Field(default=120.0, gt=0, le=_DAY, allow_inf_nan=False)
    batch_size: int = Field(default=200, ge=1, le=5000)
    concurrency: int = Field(default=10, ge=1, le=500)
    max_sleep: float = Field(default=60.0, gt=0, le=_DAY, allow_inf_nan=False)
    reload_interval: float = Field(default=2.0, gt=0, le=_DAY, allow_inf_nan=False)
    drain_timeout: float = Field(default=10.0, ge=0, le=_HOUR, allow_inf_nan=False)
    late_after: timedelta = timedelta(seconds=60)
    # How many days ahead the occurrences of recurring events are planned; the window rolls forward with time.
    recurrence_horizon: int = Field(default=400, ge=1, le=3660)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    # Server certificates are verified against the system CAs, or only against smtp_ca_file (a private CA) when set.
    smtp_ca_file: Path | None = None
    smtp_verify: bool = True
    smtp_timeout: float = Field(default=30.0, gt=0, le=_HOUR, allow_inf_nan=False)
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, ge=0, le=65535)
    # Bearer tokens of the HTTP API: api_token may read and write, api_read_token may only read.
    api_token: SecretStr | None = None
    api_read_token: SecretStr | None = None
    # The secret in the calendar feed's URL (/calendar/<feed_token>.ics); unset: no such URL. Change it to revoke.
    feed_token: SecretStr | None = None
    # Signs dashboard sessions and acknowledgement links; replicas must share it. Unset: a random key is made once
    # and kept in the database, so restarts and replicas on one database agree (alertd.storage.keys).
    secret_key: SecretStr | None = None
    # Where people reach this daemon's HTTP server (https://alertd.example.org): messages then carry signed
    # one-click acknowledgement links to it, valid for ack_link_ttl. Unset: no links.
    public_url: str | None = None
    ack_link_ttl: timedelta = timedelta(days=14)
    # The Slack app's signing secret: with it, bot-token cards get an "Acknowledge" button and /slack/interactions
    # accepts the clicks Slack signs with it (v0 HMAC, 5-minute window).
    slack_signing_secret: SecretStr | None = None
    # uvicorn's access log, one line per request (feed tokens redacted).
    http_access_log: bool = False
    # Request bodies larger than this are refused with 413 before they are read whole.
    api_max_body: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Host header values the HTTP server answers (comma-separated, * for any); default: the loopback names when
    # bound to loopback, any otherwise. Stops DNS rebinding from reaching a loopback-bound API through a browser.
    # Read requests (events, notifications, plan, calendar.ics) served at once, each on its own database
    # connection and thread; more wait for a slot, then get 503.
    api_readers: int = Field(default=2, ge=1, le=32)
    http_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # Calendar feeds (``sources:``): the largest body read, and how long one fetch may take; past either, the
    # feed counts as failing and its last good copy stays in use.
    feed_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024)
    feed_timeout: float = Field(default=30.0, gt=0, le=_HOUR, allow_inf_nan=False)

    @field_validator("catch_up", "late_after", "ack_link_ttl", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        text = value.strip().rstrip("/")
        if not _PUBLIC_URL.fullmatch(text):
            raise ValueError("write the address people open, e.g. https://alertd.example.org (no query or fragment)")
        return text

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

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("http_allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)
        hosts = tuple(str(h).strip().lower().rstrip(".") for h in items if str(h).strip())
        for host in hosts:
            if host != "*" and not _HOST.match(host):
                raise ValueError("write host names or addresses separated by commas, e.g. alertd.example.org,localhost")
        return hosts

    @field_validator("secret_key", mode="before")
    @classmethod
    def _secret_key(cls, value: Any) -> Any:
        if value is None:
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if len(text) < SECRET_KEY_MIN:
            raise ValueError(f"a secret key needs at least {SECRET_KEY_MIN} characters; {_MAKE_TOKEN}")
        if _is_placeholder(text):
            raise ValueError(f"this is a placeholder from an example, not a secret; {_MAKE_TOKEN}")
        return text

    @field_validator("api_token", "api_read_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if value is None:
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        # Never quoted back: this is a secret, even when it is a poor one.
        if len(text) < MIN_TOKEN_LENGTH:
            raise ValueError(f"a token needs at least {MIN_TOKEN_LENGTH} characters; {_MAKE_TOKEN}")
        if _is_placeholder(text):
            raise ValueError(f"this is a placeholder from an example, not a secret; {_MAKE_TOKEN}")
        return text

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
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"ALERTD_{field.upper()}: {message}") from None
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
