"""The calendar's ``admin`` channel hears, once per transition, that a channel is failing, that it recovered and
that a calendar edit was rejected: a running daemon sending to real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import os
import textwrap
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.receiver import Receiver, Reply

from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.delivery.admin import channel_failing
from alertd.delivery.health import clear_failing
from alertd.settings import Settings
from alertd.storage.db import create_engine

START = datetime(2025, 10, 30, 11, 0, tzinfo=UTC)
# Both reminders are due at 11:01; the clock is moved to 11:02 once the daemon runs.
NOW = datetime(2025, 10, 30, 11, 2, tzinfo=UTC)
CALENDAR = """
    version: 1
    timezone: UTC
    admin: ops
    defaults: {{countdown: false}}
    channels:
      desk: {{type: webhook, url: "{desk}"}}
      ops: {{type: webhook, url: "{ops}"}}
    events:
      - {{id: expiry, title: Truce expires, at: 2025-10-30T12:00, reminders: [59m], notify: [desk]}}
      - {{id: summit, title: Leaders meet, at: 2025-10-30T12:00, reminders: [59m], notify: [desk]}}
"""


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def texts(receiver: Receiver) -> list[str]:
    return [str(r.json()["text"]) for r in receiver.requests]


@pytest.fixture
async def desk() -> AsyncIterator[Receiver]:
    """The channel that breaks: its webhook was deleted (410 Gone)."""
    server = Receiver(Reply(status=410, body="gone"))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def ops() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, desk: Receiver, ops: Receiver
) -> AsyncIterator[Daemon]:
    """A daemon whose two reminders to ``desk`` are both due, ``desk`` answering 410."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "calendar.yaml"
    path.write_text(textwrap.dedent(CALENDAR.format(desk=desk.url("/desk"), ops=ops.url("/ops"))), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    monkeypatch.setenv("ALERTD_DATABASE_URL", url)
    monkeypatch.setenv("ALERTD_CALENDAR", str(path))
    clock = FixedClock(START)
    settings = Settings(max_sleep=30.0, reload_interval=0.1, drain_timeout=1.0)
    running = Daemon(settings, clock=clock, calendar_path=path, db_url=url, out=io.StringIO())
    await running.start()
    clock.set(NOW)
    running.dispatcher.kick.set()
    yield running
    await running.shutdown()


async def test_a_failing_channel_is_announced_once(daemon: Daemon, desk: Receiver, ops: Receiver) -> None:
    await until(lambda: len(ops.requests) >= 1)
    await asyncio.sleep(0.5)
    assert len(desk.requests) == 2
    (notice,) = texts(ops)
    assert notice.startswith("alertd: channel desk is failing since 2025-10-30 11:02Z: ")
    assert "410" in notice
    assert "alertd send-test desk" in notice


async def test_the_same_failure_queued_again_adds_no_notice(daemon: Daemon, ops: Receiver) -> None:
    await until(lambda: len(ops.requests) >= 1)
    engine = create_engine(daemon.db_url)
    with engine.begin() as conn:
        again = channel_failing(conn, "ops", "desk", "HTTP 410", since=NOW, now=NOW)
    engine.dispose()
    assert again is False


async def test_a_cleared_channel_is_announced_as_recovered(daemon: Daemon, ops: Receiver) -> None:
    await until(lambda: len(ops.requests) >= 1)
    engine = create_engine(daemon.db_url)
    with engine.begin() as conn:
        # What a successful ``alertd send-test desk`` does in another process (tests/cli/test_health.py).
        clear_failing(conn, "desk", now=NOW, admin="ops")
    engine.dispose()
    await until(lambda: len(ops.requests) >= 2)
    assert texts(ops)[1] == (
        "alertd: channel desk recovered at 2025-10-30 11:02Z (failing since 2025-10-30 11:02Z); "
        "0 held notifications released."
    )


async def test_a_rejected_calendar_edit_is_announced_once_with_file_and_line(
    daemon: Daemon, ops: Receiver, tmp_path: Path
) -> None:
    await until(lambda: len(ops.requests) >= 1)
    path = tmp_path / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("at: 2025-10-30T12:00", "at: 2025-10-30T25:00", 1))
    await until(lambda: len(ops.requests) >= 2)
    rejected = texts(ops)[1]
    lines = rejected.splitlines()
    assert lines[0] == "alertd: your calendar edit was rejected; the last good version keeps running."
    assert lines[1].startswith(f"{path}:10: events[0].at: bad date/time '2025-10-30T25:00'")
    daemon.request_reload()
    await asyncio.sleep(0.5)
    assert len(ops.requests) == 2
