"""API fixtures: a real, started Daemon on a temporary SQLite file and calendar, and clients for its app.

Unit tests of routes talk to the app in memory (``httpx.ASGITransport``) on the daemon's own event loop;
``test_server.py`` goes over a real socket.
"""

from __future__ import annotations

import asyncio
import io
import textwrap
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertd.api import create_app
from alertd.clock import Clock, FixedClock
from alertd.daemon import Daemon
from alertd.settings import Settings

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


def settings(**overrides: Any) -> Settings:
    """Settings for tests: no .env file, nothing from the developer's environment that matters here."""
    values: dict[str, Any] = {"reload_interval": 3600.0, "max_sleep": 3600.0, "drain_timeout": 1.0}
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
async def start_daemon(tmp_path: Path) -> AsyncIterator[DaemonFactory]:
    """Start a daemon with the given settings (and clock); every daemon started is shut down afterwards."""
    started: list[Daemon] = []

    async def start(clock: Clock | None = None, calendar: str = CALENDAR, **overrides: Any) -> Daemon:
        folder = tmp_path / f"d{len(started)}"
        folder.mkdir()
        daemon = Daemon(
            settings(**overrides),
            clock=clock or FixedClock(NOW),
            calendar_path=write_calendar(folder / "calendar.yaml", calendar),
            db_url=f"sqlite:///{folder / 'alertd.db'}",
            out=io.StringIO(),
        )
        started.append(daemon)
        await daemon.start()
        return daemon

    yield start
    for daemon in started:
        await daemon.shutdown()


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


class DaemonThread:
    """A daemon serving HTTP on 127.0.0.1 from its own thread and event loop, for synchronous clients."""

    def __init__(self, folder: Path, **overrides: Any) -> None:
        self.folder = folder
        self.overrides = overrides
        self.address: tuple[str, int] | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._daemon: Daemon | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="alertd-test-daemon")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        daemon = self._daemon = Daemon(
            settings(http_host="127.0.0.1", http_port=0, **self.overrides),
            clock=FixedClock(NOW),
            calendar_path=write_calendar(self.folder / "calendar.yaml"),
            db_url=f"sqlite:///{self.folder / 'alertd.db'}",
            out=io.StringIO(),
        )
        try:
            await daemon.start()
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            await daemon.shutdown()
            raise
        self.address = daemon.http_address
        self._ready.set()
        await daemon.run()

    def start(self) -> str:
        """Start and return the base URL."""
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failure is not None or self.address is None:
            raise RuntimeError(f"the daemon did not start: {self._failure!r}")
        host, port = self.address
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._loop is not None and self._daemon is not None:
            self._loop.call_soon_threadsafe(self._daemon.request_stop)
        self._thread.join(timeout=30)
