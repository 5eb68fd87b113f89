"""``alertd ack`` and ``alertd unack`` end to end through the CLI entry point, on a SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.cli_calendar import CALENDAR, NOW, calendar_options

from alertd.calendar import load_calendar
from alertd.cli.main import main
from alertd.storage.db import create_engine, migrate
from alertd.storage.outbox import NOTIFICATION
from alertd.storage.sync import sync_calendar


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A calendar file and a database the daemon has already loaded it into."""
    monkeypatch.chdir(tmp_path)
    where = calendar_options(tmp_path)
    engine = create_engine(where[3])
    migrate(engine)
    with engine.begin() as conn:
        sync_calendar(conn, load_calendar(Path(where[1]))[0], now=datetime(2025, 10, 20, 12, tzinfo=UTC))
    engine.dispose()
    return [*where, "--now", NOW]


def states(where: list[str]) -> set[str]:
    engine = create_engine(where[3])
    with engine.begin() as conn:
        found = set(conn.execute(sa.select(NOTIFICATION.c.state).where(NOTIFICATION.c.kind == "reminder")).scalars())
    engine.dispose()
    return found


def test_ack_prints_who_and_cancels_the_reminders(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    code = main(["ack", "truce-expiry", "--by", "ana", "--note", "filed", *where])
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip() == "acknowledged truce-expiry by ana; cancelled: 8 countdown, 2 reminder"
    assert states(where) == {"cancelled"}


def test_ack_twice_says_nothing_was_done(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    main(["ack", "truce-expiry", "--by", "ana", *where])
    capsys.readouterr()
    assert main(["ack", "truce-expiry", "--by", "bo", "--format", "json", *where]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["by"] == "ana"
    assert shown["changed"] is False


def test_unack_restores_the_reminders(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    main(["ack", "truce-expiry", "--by", "ana", *where])
    assert main(["unack", "truce-expiry", "--by", "ana", *where]) == 0
    assert "no longer acknowledged" in capsys.readouterr().out
    assert states(where) == {"pending"}


SERIES = """\
  - id: month-end
    title: Month-end report
    at: 2025-10-31T17:00
    repeat: FREQ=MONTHLY;BYDAY=-1FR
"""


def test_an_occurrence_is_acknowledged_under_its_own_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--occurrence DATE`` names ``EVENT@YYYYMMDD`` of a recurring event, even before the daemon ever ran."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calendar.yaml").write_text(CALENDAR + SERIES, encoding="utf-8")
    where = ["--calendar", str(tmp_path / "calendar.yaml"), "--db", f"sqlite:///{tmp_path / 'fresh.db'}"]
    code = main(["ack", "month-end", "--occurrence", "2025-11-28", "--by", "ana", "--now", NOW, *where])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("acknowledged month-end@20251128 by ana; cancelled: ")
    assert out.strip().endswith("2 reminder")


def test_acking_a_recurring_event_without_a_date_names_the_occurrence_form(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calendar.yaml").write_text(CALENDAR + SERIES, encoding="utf-8")
    where = ["--calendar", str(tmp_path / "calendar.yaml"), "--db", f"sqlite:///{tmp_path / 'fresh.db'}"]
    assert main(["ack", "month-end", "--by", "ana", "--now", NOW, *where]) == 1
    err = capsys.readouterr().err
    assert "month-end repeats: acknowledge one occurrence, e.g. month-end@20251031" in err
    assert "--occurrence DATE" in err
    assert "Traceback" not in err


def test_an_unknown_event_is_one_line_without_a_traceback(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    assert main(["ack", "nope", "--by", "ana", *where]) == 1
    err = capsys.readouterr().err
    assert "no event 'nope'" in err
    assert "Traceback" not in err


def test_unack_of_an_unacked_event_is_a_user_error(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    assert main(["unack", "truce-expiry", "--by", "ana", *where]) == 1
    assert "not acknowledged" in capsys.readouterr().err


def test_a_bad_occurrence_date_is_a_usage_error(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ack", "truce-expiry", "--occurrence", "31/03", "--by", "ana", *where])
    assert exit_info.value.code == 2


def test_a_file_event_can_be_acknowledged_before_the_daemon_ever_ran(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh database: the calendar file is stored and planned first, then the event is acknowledged."""
    monkeypatch.chdir(tmp_path)
    where = calendar_options(tmp_path, "fresh.db")
    assert main(["ack", "truce-expiry", "--by", "ana", "--now", NOW, *where]) == 0
    assert "acknowledged truce-expiry by ana" in capsys.readouterr().out
    assert states([*where, "--now", NOW]) == {"cancelled"}


def test_events_show_says_an_event_is_acknowledged(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    main(["ack", "truce-expiry", "--by", "ana", *where])
    capsys.readouterr()
    assert main(["events", "show", "truce-expiry", "--format", "json", *where[:4]]) == 0
    assert json.loads(capsys.readouterr().out)["acknowledged"] is True
