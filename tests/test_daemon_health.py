"""The running daemon holds a failing channel's notifications and sends them soon after another process clears it."""

from __future__ import annotations

import asyncio
import io
import os
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.delivery.health import clear_failing, failing_channels, mark_failing
from alertd.settings import Settings
from alertd.storage.db import create_engine, migrate

# The reminder is due at 11:01; the clock shows 11:02.
NOW = datetime(2025, 10, 30, 11, 2, tzinfo=UTC)
CALENDAR = """
    version: 1
    timezone: UTC
    channels:
      out: {type: console}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-10-30T12:00
        reminders: [59m]
        notify: [out]
"""


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_a_clear_by_another_process_releases_the_held_reminder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    engine = create_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        mark_failing(conn, "out", "HTTP 401 invalid token", now=NOW)
    path = tmp_path / "calendar.yaml"
    path.write_text(textwrap.dedent(CALENDAR), encoding="utf-8")
    out = io.StringIO()
    settings = Settings(max_sleep=30.0, reload_interval=0.1, drain_timeout=1.0)
    # Started before the reminder is due (only future reminders are queued), then moved past it.
    clock = FixedClock(datetime(2025, 10, 30, 11, 0, tzinfo=UTC))
    daemon = Daemon(settings, clock=clock, calendar_path=path, db_url=url, out=out)
    await daemon.start()
    try:
        clock.set(NOW)
        daemon.dispatcher.kick.set()
        await asyncio.sleep(0.3)
        assert out.getvalue() == ""
        with engine.begin() as conn:
            clear_failing(conn, "out", now=NOW)
        await until(lambda: "Truce expires" in out.getvalue())
    finally:
        await daemon.shutdown()
        engine.dispose()


def _daemon_with_a_failing_channel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Daemon:
    """A daemon on a calendar ``text`` whose database remembers channel ``old`` failing."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    engine = create_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        mark_failing(conn, "old", "HTTP 404 no_service", now=NOW)
    engine.dispose()
    path = tmp_path / "calendar.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    settings = Settings(max_sleep=30.0, reload_interval=3600.0, drain_timeout=1.0)
    return Daemon(settings, clock=FixedClock(NOW), calendar_path=path, db_url=url, out=io.StringIO())


def _failing(daemon: Daemon) -> list[str]:
    engine = create_engine(daemon.db_url)
    with engine.connect() as conn:
        found = sorted(failing_channels(conn))
    engine.dispose()
    return found


async def test_a_channel_no_longer_in_the_calendar_stops_failing_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = _daemon_with_a_failing_channel(tmp_path, monkeypatch, CALENDAR)
    await daemon.start()
    try:
        assert _failing(daemon) == []
    finally:
        await daemon.shutdown()


async def test_removing_a_failing_channel_from_the_calendar_forgets_its_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_old = CALENDAR.replace("out: {type: console}", "out: {type: console}\n      old: {type: console}")
    daemon = _daemon_with_a_failing_channel(tmp_path, monkeypatch, with_old)
    await daemon.start()
    try:
        assert _failing(daemon) == ["old"]
        daemon.calendar_path.write_text(textwrap.dedent(CALENDAR), encoding="utf-8")
        daemon.request_reload()
        await until(lambda: _failing(daemon) == [])
        await until(lambda: daemon.dispatcher.failing == {})
    finally:
        await daemon.shutdown()
