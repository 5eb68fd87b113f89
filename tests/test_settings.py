"""Process settings: ALERTD_TZDATA chooses the one zone database the whole process plans with."""

from __future__ import annotations

import os
from collections.abc import Iterator
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
