"""Process settings: ALERTD_TZDATA chooses the one zone database the whole process plans with."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from alertd.errors import ConfigError
from alertd.settings import load_settings
from alertd.timeexpr import tzdata, use_tzdata

SYSTEM_UTC = Path("/usr/share/zoneinfo/UTC")


@pytest.fixture(autouse=True)
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ALERTD_* variables or .env file of the developer's; the package database again afterwards."""
    for name in [n for n in os.environ if n.startswith("ALERTD_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield
    use_tzdata("package")


def test_load_settings_puts_the_package_database_in_use_by_default() -> None:
    """With ALERTD_TZDATA unset, loading the settings leaves every zone lookup on the pinned package."""
    if SYSTEM_UTC.is_file():
        use_tzdata("system")  # so that loading the settings has to switch back
    assert load_settings().tzdata == "package"
    assert tzdata().source == "package"


@pytest.mark.skipif(not SYSTEM_UTC.is_file(), reason="this machine has no system zone files")
def test_load_settings_puts_the_system_database_in_use_when_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTD_TZDATA=system makes the system's zone files the process's database."""
    monkeypatch.setenv("ALERTD_TZDATA", "system")
    load_settings()
    assert tzdata().source == "system"


def test_an_unusable_zone_database_is_a_one_line_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTD_TZDATA=system without system zone files fails at start, naming the variable and the fix."""
    monkeypatch.setenv("ALERTD_TZDATA", "system")
    monkeypatch.setenv("PYTHONTZPATH", str(tmp_path))
    with pytest.raises(ConfigError, match=r"^ALERTD_TZDATA: .*set ALERTD_TZDATA=package$"):
        load_settings()


def test_an_unknown_zone_database_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything but package or system is refused with the two choices."""
    monkeypatch.setenv("ALERTD_TZDATA", "latest")
    with pytest.raises(ConfigError, match="ALERTD_TZDATA: Input should be 'package' or 'system'"):
        load_settings()


@pytest.mark.parametrize("token", ["too-short-12", "has a space in the middle", "slash/in/the/token/x"])
def test_a_feed_token_short_or_not_url_safe_is_refused(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    """ALERTD_FEED_TOKEN travels in a URL path: fewer than 16 characters, or characters a path cannot carry as
    they are, is a one-line error that does not echo the token."""
    monkeypatch.setenv("ALERTD_FEED_TOKEN", token)
    with pytest.raises(ConfigError, match=r"^ALERTD_FEED_TOKEN: .*at least 16 characters") as caught:
        load_settings()
    assert token not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_feed_token_can_come_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTD_FEED_TOKEN_FILE reads the token like the other secrets (without the final newline)."""
    (tmp_path / "feed").write_text("feed-token-from-a-file-0123\n", encoding="utf-8")
    monkeypatch.setenv("ALERTD_FEED_TOKEN_FILE", str(tmp_path / "feed"))
    token = load_settings().feed_token
    assert token is not None
    assert token.get_secret_value() == "feed-token-from-a-file-0123"


@pytest.mark.parametrize(
    "token",
    [
        "change-me",
        "changeme",
        "secret",
        "token",
        "s3cret",
        "short-but-real1",
        "CHANGE-ME-PLEASE-NOW",
        "change_me_123456",
        "your-token-here-please",
        "x" * 40,
        "secret-token-12345",
        "replace-me-with-a-token",
    ],
)
@pytest.mark.parametrize("name", ["ALERTD_API_TOKEN", "ALERTD_API_READ_TOKEN"])
def test_placeholder_or_short_api_tokens_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, token: str
) -> None:
    """Tokens copied from an example or shorter than 16 characters stop start-up, without quoting the token."""
    monkeypatch.setenv(name, token)
    with pytest.raises(ConfigError) as info:
        load_settings()
    # One of two fixed sentences: nothing of the token is quoted.
    reasons = "a token needs at least 16 characters|this is a placeholder from an example, not a secret"
    assert re.fullmatch(rf"{name}: ({reasons}); make one with: openssl rand -hex 32", str(info.value))


def test_a_placeholder_token_from_a_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTD_API_TOKEN_FILE is checked like the variable."""
    (tmp_path / "token").write_text("change-me\n", encoding="utf-8")
    monkeypatch.setenv("ALERTD_API_TOKEN_FILE", str(tmp_path / "token"))
    with pytest.raises(ConfigError, match=r"^ALERTD_API_TOKEN: a token needs at least 16 characters"):
        load_settings()


def test_a_random_token_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the error message suggests (openssl rand -hex 32) is a valid token."""
    token = secrets.token_hex(32)
    monkeypatch.setenv("ALERTD_API_TOKEN", token)
    loaded = load_settings().api_token
    assert loaded is not None
    assert loaded.get_secret_value() == token


def test_allowed_hosts_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTD_HTTP_ALLOWED_HOSTS is split on commas and compared without case."""
    monkeypatch.setenv("ALERTD_HTTP_ALLOWED_HOSTS", "Alertd.Example.org, [::1] ,localhost")
    assert load_settings().http_allowed_hosts == ("alertd.example.org", "[::1]", "localhost")


def test_a_malformed_allowed_host_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL or a path where a host name goes is refused with an example."""
    monkeypatch.setenv("ALERTD_HTTP_ALLOWED_HOSTS", "https://alertd.example.org/")
    with pytest.raises(ConfigError, match=r"^ALERTD_HTTP_ALLOWED_HOSTS: write host names or addresses"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALERTD_MAX_SLEEP", "inf"),
        ("ALERTD_HTTP_TIMEOUT", "nan"),
        ("ALERTD_LEASE", "1e300"),
        ("ALERTD_CATCH_UP", "9" * 400),
        ("ALERTD_LATE_AFTER", "99999999d"),
        ("ALERTD_SMTP_PORT", "0"),
        ("ALERTD_LOG_LEVEL", "loud"),
    ],
)
def test_values_that_would_crash_the_daemon_later_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Infinite, NaN or astronomically large numbers and unknown log levels stop start-up with one line."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^{name}: ") as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_the_log_level_is_read_without_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTD_LOG_LEVEL=debug means DEBUG."""
    monkeypatch.setenv("ALERTD_LOG_LEVEL", " debug ")
    assert load_settings().log_level == "DEBUG"


def test_the_recurrence_horizon_is_a_duration_of_at_least_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTD_RECURRENCE_HORIZON", "90d")
    assert load_settings().recurrence_horizon == timedelta(days=90)
    monkeypatch.setenv("ALERTD_RECURRENCE_HORIZON", "1h")
    with pytest.raises(ConfigError, match="ALERTD_RECURRENCE_HORIZON"):
        load_settings()
