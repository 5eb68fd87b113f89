"""The running daemon moves the window of recurring events forward as its clock advances, without a file edit."""

from __future__ import annotations

import io
import os
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.settings import Settings
from alertd.storage.eventrows import EVENT
from alertd.storage.outbox import NOTIFICATION

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CALENDAR = """\
version: 1
timezone: America/New_York
channels:
  out: {type: console}
events:
  - id: standup
    title: Stand-up
    at: 2026-01-01T09:00
    repeat: FREQ=DAILY
    reminders: [1h]
"""


@pytest.fixture
async def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Daemon]:
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "calendar.yaml"
    path.write_text(textwrap.dedent(CALENDAR), encoding="utf-8")
    settings = Settings(max_sleep=30.0, reload_interval=3600.0, drain_timeout=1.0, recurrence_horizon=10)
    running = Daemon(
        settings,
        clock=FixedClock(T0),
        calendar_path=path,
        db_url=f"sqlite:///{tmp_path / 'alertd.db'}",
        out=io.StringIO(),
    )
    await running.start()
    yield running
    await running.shutdown()


def occurrences(daemon: Daemon) -> list[str]:
    with daemon.engine.connect() as conn:
        return sorted(conn.execute(sa.select(EVENT.c.id).where(EVENT.c.removed.is_(False))).scalars())


async def test_start_plans_the_occurrences_within_the_horizon(daemon: Daemon) -> None:
    found = occurrences(daemon)
    assert (found[0], found[-1], len(found)) == ("standup@20260104", "standup@20260114", 11)


async def test_a_day_later_the_window_has_moved_without_a_file_edit(daemon: Daemon) -> None:
    """The reload check (here called directly) finds the file unchanged and an hour passed: it syncs again, which
    plans the occurrence that came within the horizon, quietly, and lets the one long past go."""
    assert isinstance(daemon.clock, FixedClock)
    daemon.clock.advance(24 * 3600)
    await daemon._check_reload()
    found = occurrences(daemon)
    assert (found[0], found[-1], len(found)) == ("standup@20260105", "standup@20260115", 11)
    n = NOTIFICATION.c
    with daemon.engine.connect() as conn:
        assert conn.execute(sa.select(n.id).where(n.event_id == "standup@20260115", n.state == "pending")).all()
        assert conn.execute(sa.select(n.id).where(n.kind == "change")).all() == []


async def test_the_window_stays_put_within_the_hour(daemon: Daemon) -> None:
    assert isinstance(daemon.clock, FixedClock)
    daemon.clock.advance(30 * 60)
    before = occurrences(daemon)
    await daemon._check_reload()
    assert occurrences(daemon) == before
    assert daemon._synced_at == T0
