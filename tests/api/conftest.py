"""API fixtures: a real, started Daemon on a temporary SQLite file and calendar, and clients for its app.

Unit tests of routes talk to the app in memory (``httpx.ASGITransport``) on the daemon's own event loop;
``test_server.py`` goes over a real socket.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.daemons import Daemons, ServedDaemon

from alertd.api import create_app
from alertd.clock import Clock, FixedClock
from alertd.daemon import Daemon

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
WRITE_TOKEN = "write-token-for-tests"
READ_TOKEN = "read-token-for-tests"
WRITE = {"Authorization": f"Bearer {WRITE_TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}

CALENDAR = """\
    version: 1
    timezone: America/New_York
    defaults:
      reminders: [3d, 1d]
      countdown: false
      notify: [console]
    channels:
      console: {type: console}
    events:
      - id: truce-expiry
        title: US–China tariff truce expires
        at: 2025-11-10
"""

DaemonFactory = Callable[..., Awaitable[Daemon]]


def write_calendar(path: Path, text: str = CALENDAR) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
async def start_daemon(tmp_path: Path) -> AsyncIterator[DaemonFactory]:
    """Start a daemon with the given settings (and clock); every daemon started is shut down afterwards."""
    daemons = Daemons(tmp_path)

    async def start(clock: Clock | None = None, calendar: str = CALENDAR, **overrides: Any) -> Daemon:
        return await daemons.start(textwrap.dedent(calendar), clock or FixedClock(NOW), **overrides)

    yield start
    await daemons.shutdown()


@pytest.fixture
async def daemon(start_daemon: DaemonFactory) -> Daemon:
    """A started daemon with both API tokens configured."""
    return await start_daemon(api_token=WRITE_TOKEN, api_read_token=READ_TOKEN)


def client_for(daemon: Daemon) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(daemon)), base_url="http://localhost")


@pytest.fixture
async def client(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``daemon``'s app, sending no token unless a test passes one."""
    async with client_for(daemon) as http:
        yield http


class DaemonThread(ServedDaemon):
    """A daemon on :data:`CALENDAR` at :data:`NOW` serving HTTP on 127.0.0.1 from its own thread and event loop, for
    synchronous clients."""

    def __init__(self, folder: Path, **overrides: Any) -> None:
        super().__init__(folder, textwrap.dedent(CALENDAR), FixedClock(NOW), **overrides)
