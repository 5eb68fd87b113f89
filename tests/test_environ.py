"""The light settings reader of ``check`` and ``plan`` agrees with Settings, the one definition of every setting."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from alertd import environ
from alertd.settings import Settings, load_settings
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


def test_its_setting_names_are_exactly_the_fields_of_settings() -> None:
    """A setting added to Settings must be added here too, so the reader never ignores one Settings reads."""
    assert set(environ.FIELDS) == set(Settings.model_fields)


def test_its_defaults_are_those_of_settings() -> None:
    """With nothing set, both readers give the same calendar, zone database and zone."""
    basics = environ.basics()
    settings = load_settings()
    assert basics == environ.Basics(calendar=settings.calendar, tzdata=settings.tzdata, timezone=settings.timezone)


def test_the_environment_wins_over_the_env_file_as_in_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``.env`` gives what the environment does not; a variable set in both is the environment's, in any case."""
    (tmp_path / ".env").write_text("ALERTD_CALENDAR=from-file.yaml\nALERTD_TIMEZONE=Europe/Paris\n", encoding="utf-8")
    monkeypatch.setenv("alertd_calendar", "from-env.yaml")
    basics = environ.basics()
    settings = load_settings()
    assert basics is not None
    assert (basics.calendar, basics.timezone) == (Path("from-env.yaml"), "Europe/Paris")
    assert (settings.calendar, settings.timezone) == (basics.calendar, basics.timezone)


@pytest.mark.skipif(not SYSTEM_UTC.is_file(), reason="this machine has no system zone files")
def test_it_puts_the_chosen_zone_database_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTD_TZDATA=system read lightly switches the process to the system's zone files, as load_settings does."""
    monkeypatch.setenv("ALERTD_TZDATA", "system")
    assert environ.basics() is not None
    assert tzdata().source == "system"


@pytest.mark.parametrize(
    ("name", "value"), [("ALERTD_TZDATA", "latest"), ("ALERTD_TIMEZONE", "Mars/Base"), ("ALERTD_CALENDAR", " ")]
)
def test_an_odd_value_is_left_to_settings(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value the light reader does not accept as it stands gives None: the caller loads Settings for its error."""
    monkeypatch.setenv(name, value)
    assert environ.basics() is None


def test_calendar_variables_fall_back_to_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``${VAR}`` in the calendar sees the process environment first, then ``.env``."""
    (tmp_path / ".env").write_text("HOOK=file\nTOKEN=file\n", encoding="utf-8")
    monkeypatch.setenv("TOKEN", "env")
    values = environ.calendar_environ()
    assert (values["HOOK"], values["TOKEN"]) == ("file", "env")
