"""``alertd events …`` and ``alertd export-ics`` end to end through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import icalendar
import pytest
from support.cli_calendar import NOW, calendar_options

from alertd.cli.main import main


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``--calendar`` and ``--db`` options for a fresh calendar file and SQLite database."""
    monkeypatch.chdir(tmp_path)
    return calendar_options(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys: pytest.CaptureFixture[str], where: list[str], *extra: str) -> tuple[int, str, str]:
    argv = ["events", "add", "truce-talks", "--title", "Truce talks", "--start", "2025-11-12T10:00"]
    return run(capsys, *argv, *extra, "--now", NOW, *where)


def listed(capsys: pytest.CaptureFixture[str], where: list[str]) -> dict[str, dict[str, Any]]:
    code, out, _ = run(capsys, "events", "list", "--format", "json", *where)
    assert code == 0
    return {e["id"]: e for e in json.loads(out)}


def test_add_then_list_shows_file_and_database_events(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    code, out, _ = add(capsys, where)

    assert code == 0
    assert "truce-talks" in out
    assert {i: e["owner"] for i, e in listed(capsys, where).items()} == {"truce-expiry": "file", "truce-talks": "db"}


def test_add_json_echoes_the_stored_event(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    code, out, _ = add(capsys, where, "--tags", "trade,talks", "--reminders", "", "--format", "json")

    assert code == 0
    assert json.loads(out) == listed(capsys, where)["truce-talks"]
    assert json.loads(out)["reminders"] == []


def test_invalid_event_is_one_line_exit_1(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    code, out, err = add(capsys, where, "--notify", "desk-slack")

    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("alertd: event 'truce-talks': notify")
    assert "Traceback" not in err


def test_moving_a_provisioned_event_names_the_file(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    code, _, err = run(capsys, "events", "move", "truce-expiry", "2025-11-12", "--now", NOW, *where)

    assert code == 1
    assert err.strip() == "alertd: event 'truce-expiry' is defined in calendar.yaml; edit the file instead"


def test_move_changes_the_start(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    add(capsys, where)

    argv = ["events", "move", "truce-talks", "2025-11-14T09:30", "--timezone", "Europe/London", "--now", NOW]
    code, _, _ = run(capsys, *argv, *where)

    event = listed(capsys, where)["truce-talks"]
    assert code == 0
    assert (event["local_start"], event["timezone"]) == ("2025-11-14T09:30:00", "Europe/London")


def test_move_into_the_past_is_refused_unless_forced(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    """A year typo is one line naming the start and ``--force``; with ``--force`` the move happens."""
    add(capsys, where)

    code, out, err = run(capsys, "events", "move", "truce-talks", "2024-11-14T09:30", "--now", NOW, *where)

    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith("alertd: event 'truce-talks': start: 2024-11-14T09:30:00 (America/New_York) is in the past")
    assert "--force" in err
    assert listed(capsys, where)["truce-talks"]["local_start"] == "2025-11-12T10:00:00"
    code, _, _ = run(capsys, "events", "move", "truce-talks", "2024-11-14T09:30", "--force", "--now", NOW, *where)
    assert code == 0
    assert listed(capsys, where)["truce-talks"]["local_start"] == "2024-11-14T09:30:00"


def test_add_keeps_the_instant_of_an_explicit_offset(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    """``--start 2025-11-02T01:30-05:00`` is the second 01:30 of the fall-back night: stored, listed and shown so."""
    argv = ["events", "add", "second-run", "--title", "Second run", "--start", "2025-11-02T01:30-05:00"]
    code, out, _ = run(capsys, *argv, "--now", NOW, *where)
    assert (code, out.strip()) == (0, "added second-run: Second run — Sun 02 Nov 2025 01:30 EST, confirmed")
    event = listed(capsys, where)["second-run"]
    assert (event["starts_at"], event["local_start"]) == ("2025-11-02T06:30:00Z", "2025-11-02T01:30:00-05:00")


@pytest.mark.parametrize(("verb", "status"), [("cancel", "cancelled"), ("confirm", "confirmed")])
def test_status_verbs(capsys: pytest.CaptureFixture[str], where: list[str], verb: str, status: str) -> None:
    add(capsys, where, "--status", "tentative")

    code, _, _ = run(capsys, "events", verb, "truce-talks", "--now", NOW, *where)

    assert code == 0
    assert listed(capsys, where)["truce-talks"]["status"] == status


def test_show_prints_the_event(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    add(capsys, where, "--notes", "Extension on the table.")

    code, out, _ = run(capsys, "events", "show", "truce-talks", *where)

    assert code == 0
    assert "Truce talks" in out
    assert "Extension on the table." in out


def test_show_unknown_event_exits_1(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    code, _, err = run(capsys, "events", "show", "nope", *where)

    assert code == 1
    assert err.startswith("alertd: no event 'nope'")


def test_export_ics_writes_every_event(capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path) -> None:
    add(capsys, where)
    target = tmp_path / "alertd.ics"

    code, _, _ = run(capsys, "export-ics", "--output", str(target), "--now", NOW, *where)

    assert code == 0
    parsed = icalendar.Calendar.from_ical(target.read_bytes())
    uids = {str(e["UID"]) for e in parsed.events}
    assert uids == {f"{i}@alertd" for i in listed(capsys, where)}


def test_export_ics_to_stdout_keeps_crlf(capsysbinary: pytest.CaptureFixture[bytes], where: list[str]) -> None:
    code = main(["export-ics", "--now", NOW, *where])

    out = capsysbinary.readouterr().out
    assert code == 0
    assert out.startswith(b"BEGIN:VCALENDAR\r\n")
    assert out.count(b"\n") == out.count(b"\r\n")


def test_add_with_after_ack_keep_leaves_the_reminders_after_an_ack(
    capsys: pytest.CaptureFixture[str], where: list[str]
) -> None:
    assert add(capsys, where, "--after-ack", "keep")[0] == 0
    code, out, _ = run(capsys, "ack", "truce-talks", "--by", "ana", "--now", NOW, *where)
    assert (code, out.strip()) == (0, "acknowledged truce-talks by ana; cancelled: nothing")


def test_add_with_an_unknown_after_ack_is_a_usage_error(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        add(capsys, where, "--after-ack", "later")
    assert exit_info.value.code == 2
