"""A light reader of the few settings ``alertd check`` and ``alertd plan`` need, without pydantic-settings.

Building :class:`alertd.settings.Settings` imports pydantic-settings, which costs more CPU than the whole of
``alertd check`` may. The commands that only read a calendar need three settings: where the calendar is, which zone
database to use and the default zone. They are read here with pydantic-settings' rules (``ALERTD_`` prefix, any
case, the process environment before ``.env``); for a value this reader does not accept as it stands the command loads
the full settings instead, so a bad value gets Settings' own one-line error. Settings stays the one
definition: its defaults for these names are the constants below, and a test checks :data:`FIELDS` against it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from alertd.timeexpr import TZDATA_SOURCES, ZoneError, use_tzdata, zone

__all__ = [
    "CALENDAR_MAX_BYTES",
    "DEFAULT_CALENDAR",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_TIMEZONE",
    "DEFAULT_TZDATA",
    "FIELDS",
    "PREFIX",
    "SECRET_FIELDS",
    "Basics",
    "basics",
    "calendar_environ",
    "setting_names",
    "setting_values",
]

PREFIX = "ALERTD_"
DEFAULT_CALENDAR = "config/calendar.yaml"
DEFAULT_TZDATA: Literal["package", "system"] = "package"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_DATABASE_URL = "sqlite:///alertd.db"
# A hand-written calendar of thousands of events is well under a megabyte; the bound keeps a runaway file (or
# one pointed at a log) from costing gigabytes and minutes before the first error.
CALENDAR_MAX_BYTES = 4 * 1024 * 1024
# Settings that are secrets: each may also come from a file named by its ``_FILE`` twin.
SECRET_FIELDS = (
    "api_token",
    "api_read_token",
    "feed_token",
    "smtp_password",
    "secret_key",
    "slack_signing_secret",
)

# Every setting name Settings defines (the test keeps this true): an ALERTD_ variable not in it is ignored by both.
FIELDS = (
    "database_url",
    "calendar",
    "tzdata",
    "timezone",
    "catch_up",
    "log_format",
    "log_level",
    "http_timeout",
    "allow_private_targets",
    "max_attempts",
    "retry_base",
    "retry_cap",
    "lease",
    "batch_size",
    "concurrency",
    "max_sleep",
    "reload_interval",
    "drain_timeout",
    "late_after",
    "recurrence_horizon",
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "smtp_tls",
    "smtp_ca_file",
    "smtp_verify",
    "smtp_timeout",
    "http_host",
    "http_port",
    "api_token",
    "api_read_token",
    "feed_token",
    "secret_key",
    "http_access_log",
    "calendar_max_bytes",
    "calendar_load_timeout",
    "secrets_dir",
    "api_max_body",
    "api_readers",
    "http_allowed_hosts",
    "feed_max_bytes",
    "feed_timeout",
    "public_url",
    "ack_link_ttl",
    "slack_signing_secret",
)


@dataclass(frozen=True, slots=True)
class Basics:
    """The settings a command that only reads the calendar uses."""

    calendar: Path
    tzdata: str
    timezone: str
    database_url: str = DEFAULT_DATABASE_URL
    calendar_max_bytes: int = CALENDAR_MAX_BYTES
    secrets_dir: Path | None = None


@cache
def setting_names() -> frozenset[str]:
    """Every environment variable alertd reads as its own setting (``ALERTD_API_TOKEN``, its ``_FILE`` twin, …)."""
    names = {PREFIX + name.upper() for name in FIELDS}
    return frozenset(names | {f"{PREFIX}{name.upper()}_FILE" for name in SECRET_FIELDS})


def setting_values(env_file: str | Path = ".env") -> dict[str, str]:
    """Raw values of alertd's settings by field name: ``.env`` first, the process environment over it."""
    found: dict[str, str] = {}
    prefix = PREFIX.lower()
    for key, value in calendar_environ(env_file).items():
        name = key.lower().removeprefix(prefix)
        if key.lower().startswith(prefix) and name in FIELDS:
            found[name] = value
    return found


def calendar_environ(env_file: str | Path = ".env") -> dict[str, str]:
    """Variables for ``${VAR}`` in the calendar: the process environment, falling back to the ``.env`` file."""
    values = _dotenv(Path(env_file))
    values.update(os.environ)
    return values


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def basics() -> Basics | None:
    """The calendar path, zone database and default zone, with the chosen zone database put in use; None when one
    of them is not a value this reader accepts as it stands (the caller then loads the full settings, whose error
    explains it exactly as for every other command)."""
    values = setting_values()
    calendar = values.get("calendar", DEFAULT_CALENDAR)
    tzdata = values.get("tzdata", DEFAULT_TZDATA)
    timezone = values.get("timezone", DEFAULT_TIMEZONE)
    max_bytes = values.get("calendar_max_bytes", str(CALENDAR_MAX_BYTES))
    secrets_dir = values.get("secrets_dir")
    if not calendar.strip() or tzdata not in TZDATA_SOURCES or not max_bytes.isdigit() or int(max_bytes) < 1:
        return None
    try:
        use_tzdata(tzdata)
        zone(timezone)
    except ZoneError:
        return None
    return Basics(
        calendar=Path(calendar),
        tzdata=tzdata,
        timezone=timezone,
        database_url=values.get("database_url", DEFAULT_DATABASE_URL),
        calendar_max_bytes=int(max_bytes),
        secrets_dir=Path(secrets_dir) if secrets_dir else None,
    )
