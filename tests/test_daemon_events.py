"""A running daemon notices database-owned events written by another process (CLI, API replica)."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alertd.calendar.load import load_calendar
from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.settings import Settings
from alertd.storage import events as eventsdb
from alertd.storage.db import create_engine
from alertd.storage.events import EventDraft

T0 = datetime(2025, 10, 30, 11, 0, tzinfo=UTC)
CALENDAR = """\
version: 1
timezone: UTC
channels:
  out: {type: console}
events: []
"""


@pytest.fixture
async def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Daemon]:
    """A started daemon that, left alone, would sleep for ten minutes; it checks for changes every 0.1 s."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calendar.yaml").write_text(CALENDAR, encoding="utf-8")
    running = Daemon(
        Settings(max_sleep=600.0, reload_interval=0.1, drain_timeout=1.0),
        clock=FixedClock(T0),
        calendar_path=tmp_path / "calendar.yaml",
        db_url=f"sqlite:///{tmp_path / 'alertd.db'}",
        out=io.StringIO(),
    )
    await running.start()
    yield running
    await running.shutdown()


async def until_printed(out: io.StringIO, text: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in out.getvalue():
        assert loop.time() < deadline, f"{text!r} was never printed"
        await asyncio.sleep(0.05)


async def test_event_added_elsewhere_has_its_notice_sent_without_waiting_for_the_timer(
    daemon: Daemon, tmp_path: Path
) -> None:
    calendar, _ = load_calendar(tmp_path / "calendar.yaml")
    other = create_engine(f"sqlite:///{tmp_path / 'alertd.db'}")  # as a separate CLI process would
    draft = EventDraft(id="truce-talks", title="Truce talks in Geneva", start="2025-11-12T10:00")
    try:
        await asyncio.to_thread(eventsdb.add_event, other, calendar, draft, now=T0)
    finally:
        other.dispose()

    assert isinstance(daemon.out, io.StringIO)
    await until_printed(daemon.out, "Truce talks in Geneva")
