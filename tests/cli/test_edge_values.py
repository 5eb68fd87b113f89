"""Odd values for every CLI option and every setting: each is refused with one line (or accepted), never a traceback.

argparse's own refusals (exit 2) print the usage line and one ``error:`` line, as every argparse program does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from alertd.cli.main import main
from alertd.settings import Settings

from .test_main import SEED, alertd, assert_one_line_failure

# Values that broke or could break a parser: empty, blanks, signs, huge, NaN and infinity, the end of time,
# control characters and an undecodable byte as Python presents it in argv (a lone surrogate).
ODD = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "1e400",
    "nan",
    "inf",
    "9" * 400,
    "9999-12-31T23:59:59Z",
    "0001-01-01",
    "\t\n",
    "\udcff",
]
INSTANT = ["9999-12-31T23:59:59Z", "9999-12-31", "0001-01-01T00:00Z", "1-01-01", "2025-13-01", "2025-10-20T25:00"]

ADD = ("--calendar", "{seed}", "--db", "{db}", "--title", "T", "--start", "2026-01-01")
COMMANDS: list[tuple[str, ...]] = [
    ("plan", "--calendar", "{seed}", "--now"),
    ("plan", "--calendar", "{seed}", "--from"),
    ("plan", "--calendar", "{seed}", "--until"),
    ("plan", "--calendar"),
    ("plan", "--calendar", "{seed}", "--format"),
    ("check",),
    ("run", "--calendar", "{seed}", "--db", "{db}", "--replay-from"),
    ("run", "--calendar", "{seed}", "--db", "{db}", "--replay-from", "2025-10-20", "--speed"),
    ("history", "--db", "{db}", "--event"),
    ("history", "--db", "{db}", "--state"),
    ("history", "--db", "{db}", "--limit"),
    ("history", "--db"),
    ("send-test", "--calendar", "{seed}", "--db", "{db}"),
    ("db", "upgrade", "--db"),
    ("events", "list", "--calendar", "{seed}", "--db", "{db}", "--now"),
    ("events", "list", "--calendar", "{seed}", "--db"),
    ("events", "show", "--calendar", "{seed}", "--db", "{db}"),
    ("events", "add", "x-1", "--calendar", "{seed}", "--db", "{db}", "--start", "2026-01-01", "--title"),
    ("events", "add", "x-2", "--calendar", "{seed}", "--db", "{db}", "--title", "T", "--start"),
    (
        "events",
        "add",
        "x-3",
        "--calendar",
        "{seed}",
        "--db",
        "{db}",
        "--title",
        "T",
        "--start",
        "2026-01-01",
        "--timezone",
    ),
    (
        "events",
        "add",
        "x-4",
        "--calendar",
        "{seed}",
        "--db",
        "{db}",
        "--title",
        "T",
        "--start",
        "2026-01-01",
        "--status",
    ),
    ("events", "add", "x-5", *ADD, "--tags"),
    (
        "events",
        "add",
        "x-6",
        "--calendar",
        "{seed}",
        "--db",
        "{db}",
        "--title",
        "T",
        "--start",
        "2026-01-01",
        "--notify",
    ),
    (
        "events",
        "add",
        "x-7",
        "--calendar",
        "{seed}",
        "--db",
        "{db}",
        "--title",
        "T",
        "--start",
        "2026-01-01",
        "--notes",
    ),
    ("events", "add", *ADD, "--"),
    ("events", "move", "--calendar", "{seed}", "--db", "{db}", "truce-expiry"),
    ("export-ics", "--calendar", "{seed}", "--db", "{db}", "--now"),
]


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in [n for n in os.environ if n.startswith("ALERTD_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    seed = shutil.copy(SEED, tmp_path / "calendar.yaml")
    return {"seed": str(seed), "db": f"sqlite:///{tmp_path / 'alertd.db'}"}


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse: usage and one error line
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(a for a in c if "{" not in a))
def test_odd_values_of_every_cli_option_give_one_line(
    place: dict[str, str], capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """Each odd value is accepted or refused with exit 1 (one ``alertd:`` line) or 2 (argparse), no traceback."""
    args = [a.format(**place) for a in command]
    values = INSTANT + ODD if command[-1] in ("--now", "--from", "--until") else ODD
    for value in values:
        code, err = _run(capsys, [*args, value])
        assert code in (0, 1, 2), (value, code, err)
        if code == 1:
            lines = [line for line in err.splitlines() if line.strip()]
            assert lines[-1].startswith("alertd: "), (value, err)
        if code == 2:
            assert err.strip().splitlines()[-1].startswith("usage:") or ": error: " in err, (value, err)


SETTINGS_ODD = [v for v in ODD if v != "\udcff"]


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_odd_values_of_every_setting_give_one_line(
    place: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    """Every ALERTD_* setting with an odd value: ``alertd plan`` works or stops with one line naming it."""
    for value in SETTINGS_ODD:
        monkeypatch.setenv(f"ALERTD_{field.upper()}", value)
        code, err = _run(capsys, ["plan", "--calendar", place["seed"], "--now", "2025-10-20T00:00Z"])
        assert code in (0, 1), (value, err)
        if code == 1:
            assert err.strip().startswith("alertd: "), (value, err)
            assert len(err.strip().splitlines()) == 1, (value, err)


def test_plan_at_the_end_of_time_is_refused_in_one_line(place: dict[str, str]) -> None:
    """The reviewer's example: an instant whose window would overflow is out of range, said in one error line."""
    done = alertd("plan", "--calendar", place["seed"], "--now", "9999-12-31T23:59:59Z", cwd=Path(place["seed"]).parent)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "alertd plan: error: argument --now: out of range: '9999-12-31T23:59:59Z'; "
        "give an instant between 1900 and 2999"
    )


@pytest.mark.parametrize(
    "url", ["postgresql://alertd:hunter2@127.0.0.1:abc/alertd", "postgresql://alertd:hunter2@[::1/alertd"]
)
def test_a_non_numeric_port_in_the_database_url_is_one_line_without_the_password(
    place: dict[str, str], url: str
) -> None:
    """A port that is not a number stops the command with one line, and the URL's password is not shown."""
    done = alertd("history", "--db", url, cwd=Path(place["seed"]).parent)
    line = assert_one_line_failure(done)
    assert line.startswith("alertd: bad database URL: the port is not a number")
    assert "hunter2" not in done.stderr
