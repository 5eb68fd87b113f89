"""``alertd history`` as a user reads it, and the read-only commands (``history``, ``events list``, ``plan``) that
must neither create a database nor need the channels' secrets."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertd.calendar import parse_calendar
from alertd.cli.main import main
from alertd.storage.db import create_engine, migrate
from alertd.storage.outbox import NOTIFICATION, Outcome, record
from alertd.storage.sync import sync_calendar

T0 = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
CALENDAR = """
    version: 1
    timezone: UTC
    defaults: {reminders: [2d, 1d], countdown: false}
    channels:
      desk: {type: slack, url: "${ALERTD_TEST_SLACK_URL}"}
    events:
      - {id: truce-expiry, title: US–China tariff truce expires, at: 2025-11-10T12:00}
"""
FIRST, SECOND = "rem:truce-expiry:2d:desk:20251108T120000Z", "rem:truce-expiry:1d:desk:20251109T120000Z"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the calendar (its Slack URL unset) and no ALERTD_* settings."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calendar.yaml").write_text(textwrap.dedent(CALENDAR), encoding="utf-8")
    monkeypatch.setenv("ALERTD_CALENDAR", str(tmp_path / "calendar.yaml"))
    return tmp_path


@pytest.fixture
def db(home: Path) -> str:
    """The daemon's database after both reminders were sent (the 2-day one first)."""
    url = f"sqlite:///{home / 'alertd.db'}"
    calendar, _ = parse_calendar(
        textwrap.dedent(CALENDAR), name="calendar.yaml", environ={"ALERTD_TEST_SLACK_URL": "https://x.test/h"}
    )
    engine = create_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        sync_calendar(conn, calendar, now=T0)
    engine.dispose()
    _send(url, FIRST, datetime(2025, 11, 8, 12, 0, 1, tzinfo=UTC))
    return url


def _send(url: str, id: str, at: datetime) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            NOTIFICATION.update().where(NOTIFICATION.c.id == id).values(state="sending", locked_by="t", attempts=1)
        )
        record(conn, [Outcome(id=id, state="sent", at=at, detail="HTTP 200 ok")], worker="t")
    engine.dispose()


def _send_second(url: str) -> None:
    _send(url, SECOND, datetime(2025, 11, 9, 12, 0, 2, tzinfo=UTC))


def test_history_lists_the_newest_first_with_title_and_sent_at(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _send_second(db)
    assert main(["history"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:8] == ["DUE", "(UTC)", "SENT", "(UTC)", "STATE", "TRIES", "CHANNEL", "TITLE"]
    assert [r.split()[:4] for r in rows] == [
        ["2025-11-09", "12:00Z", "2025-11-09", "12:00:02Z"],
        ["2025-11-08", "12:00Z", "2025-11-08", "12:00:01Z"],
    ]
    assert all("US–China tariff truce expires" in r for r in rows)


def test_history_json_carries_the_title(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["id"], row["title"], row["sent_at"]) == (FIRST, "US–China tariff truce expires", "2025-11-08T12:00:01Z")


def test_history_since_leaves_out_older_notifications(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _send_second(db)
    assert main(["history", "--since", "2025-11-09T00:00Z", "--format", "json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [SECOND]


def test_history_of_one_event_shows_its_pending_notifications(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--event", "truce-expiry", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["state"]) for r in rows] == [(SECOND, "pending"), (FIRST, "sent")]


def test_history_refuses_an_unknown_state_in_one_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--state", "delivered"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "alertd: unknown state 'delivered' for --state: use one of pending, sending, retrying, sent, dead, "
        "cancelled, missed"
    ]


def test_history_without_a_database_creates_none(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("alertd: no database at sqlite:///alertd.db: nothing has been planned or sent")
    assert sorted(p.name for p in home.iterdir()) == ["calendar.yaml"]


def test_events_list_without_a_database_or_secrets_lists_the_file(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "list", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert [e["id"] for e in json.loads(captured.out)] == ["truce-expiry"]
    assert captured.err == ""
    assert sorted(p.name for p in home.iterdir()) == ["calendar.yaml"]


def test_events_list_reads_an_existing_database_without_secrets(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "list"]) == 0
    assert "truce-expiry" in capsys.readouterr().out


def test_plan_needs_no_channel_secrets(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = (T0 - timedelta(days=1)).strftime("%Y-%m-%dT%H:%MZ")
    assert main(["plan", "--now", now, "--until", "2025-11-12T00:00Z", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert [p["id"] for p in json.loads(captured.out)] == [FIRST, SECOND]
    assert sorted(p.name for p in home.iterdir()) == ["calendar.yaml"]


def test_send_test_still_needs_the_channels_secret(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send-test", "desk"]) == 1
    assert "environment variable ALERTD_TEST_SLACK_URL is not set" in capsys.readouterr().err


def test_history_of_a_recurring_event_shows_every_occurrence(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--event weekly`` stands for its occurrences (``weekly@…``), not for another event whose id starts alike."""
    text = textwrap.dedent(CALENDAR) + (
        "  - {id: weekly, title: Weekly, at: '2025-11-03T09:00', repeat: 'FREQ=WEEKLY;COUNT=2', reminders: [1h]}\n"
        "  - {id: weekly-extra, title: Extra, at: '2025-11-05T09:00', reminders: [1h]}\n"
    )
    calendar, _ = parse_calendar(text, name="calendar.yaml", environ={"ALERTD_TEST_SLACK_URL": "https://x.test/h"})
    engine = create_engine(f"sqlite:///{home / 'alertd.db'}")
    migrate(engine)
    with engine.begin() as conn:
        sync_calendar(conn, calendar, now=T0)
    engine.dispose()
    assert main(["history", "--event", "weekly", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["event_id"] for r in rows) == ["weekly@20251103", "weekly@20251110"]
