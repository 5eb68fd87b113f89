"""``alertd history`` shows channel health and held rows; a successful ``alertd send-test`` clears a failing channel."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.receiver import Receiver

from alertd.cli.main import main
from alertd.delivery.health import failing_channels, mark_failing
from alertd.domain import Planned
from alertd.storage.db import create_engine, migrate
from alertd.storage.outbox import NOTIFICATION, enqueue, hold

T0 = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database whose ``hook`` channel failed at T0, in a clean environment."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    monkeypatch.setenv("ALERTD_DATABASE_URL", url)
    engine = create_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        enqueue(
            conn, [Planned(id="rem:x:1h:hook:1", kind="reminder", channel="hook", due_at=T0)], now=T0 - timedelta(1)
        )
        mark_failing(conn, "hook", "HTTP 401 invalid token", now=T0)
    engine.dispose()
    return url


def test_history_lists_failing_channels_above_the_table(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAILING CHANNELS")
    assert out[2].split()[:3] == ["hook", "2025-11-01T12:00:00Z", "1"]
    assert "HTTP 401 invalid token" in out[2]


def test_history_channels_prints_health_as_json(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--channels", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"channel": "hook", "since": "2025-11-01T12:00:00Z", "reason": "HTTP 401 invalid token", "held": 1}
    ]


def test_history_shows_a_held_pending_row(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_engine(db_url)
    until = T0 + timedelta(hours=8)
    with engine.begin() as conn:
        hold(conn, "hook", until=until, detail="held by quiet hours until 07:00 Asia/Shanghai", now=T0)
    engine.dispose()
    assert main(["history", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["state"], row["held_until"]) == ("pending", "2025-11-01T20:00:00Z")
    assert row["last_error"] == "held by quiet hours until 07:00 Asia/Shanghai"


def test_successful_send_test_clears_the_channel(
    db_url: str, tmp_path: Path, threaded_receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "calendar.yaml"
    text = f"""
        version: 1
        timezone: UTC
        channels:
          hook: {{type: webhook, url: "{threaded_receiver.url("/hook")}"}}
        events: []
    """
    calendar.write_text(textwrap.dedent(text), encoding="utf-8")
    assert main(["send-test", "hook", "--calendar", str(calendar)]) == 0
    out = capsys.readouterr().out
    assert "channel was failing since 2025-11-01 12:00Z (HTTP 401 invalid token); cleared, 1 held notification" in out
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert failing_channels(conn) == {}
        held = conn.execute(NOTIFICATION.select().where(NOTIFICATION.c.kind == "reminder")).one()
    engine.dispose()
    assert held.state == "pending"
    assert held.held_until is not None


def test_successful_send_test_queues_a_recovered_notice_for_the_admin_channel(
    db_url: str, tmp_path: Path, threaded_receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "calendar.yaml"
    text = f"""
        version: 1
        timezone: UTC
        admin: ops
        channels:
          hook: {{type: webhook, url: "{threaded_receiver.url("/hook")}"}}
          ops: {{type: console}}
        events: []
    """
    calendar.write_text(textwrap.dedent(text), encoding="utf-8")
    assert main(["send-test", "hook", "--calendar", str(calendar)]) == 0
    engine = create_engine(db_url)
    with engine.connect() as conn:
        notice = conn.execute(NOTIFICATION.select().where(NOTIFICATION.c.kind == "admin")).one()
    engine.dispose()
    assert (notice.channel, notice.state) == ("ops", "pending")
    assert notice.payload["text"].startswith("alertd: channel hook recovered at ")
    assert "(failing since 2025-11-01 12:00Z); 1 held notification released." in notice.payload["text"]
