"""Daemons for the API and dashboard tests: settings free of the developer's environment, daemons started on a
calendar in folders of their own, and a daemon serving HTTP on 127.0.0.1 from its own thread (for synchronous
clients: browsers, schema fuzzers)."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path
from typing import Any

from alertd.clock import Clock
from alertd.daemon import Daemon
from alertd.settings import Settings

__all__ = ["Daemons", "ServedDaemon", "settings_for_tests"]


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings for tests: no .env file, nothing from the developer's environment that matters here."""
    values: dict[str, Any] = {"reload_interval": 3600.0, "max_sleep": 3600.0, "drain_timeout": 1.0}
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Daemons:
    """Starts daemons, each in its own folder under ``root``; :meth:`shutdown` stops every one started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Daemon] = []

    async def start(self, calendar: str, clock: Clock, db_url: str | None = None, **overrides: Any) -> Daemon:
        folder = self.root / f"d{len(self.started)}"
        folder.mkdir()
        path = folder / "calendar.yaml"
        path.write_text(calendar, encoding="utf-8")
        daemon = Daemon(
            settings_for_tests(**overrides),
            clock=clock,
            calendar_path=path,
            db_url=db_url or f"sqlite:///{folder / 'alertd.db'}",
            out=io.StringIO(),
        )
        self.started.append(daemon)
        await daemon.start()
        return daemon

    async def shutdown(self) -> None:
        for daemon in self.started:
            await daemon.shutdown()


class ServedDaemon:
    """Starts on :meth:`start` (returning the base URL) and stops on :meth:`stop`; the database is SQLite."""

    def __init__(self, folder: Path, calendar: str, clock: Clock, **settings: Any) -> None:
        self.folder = folder
        self.calendar = calendar
        self.clock = clock
        self.settings = settings
        self.daemon: Daemon | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="alertd-web-test")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        path = self.folder / "calendar.yaml"
        path.write_text(self.calendar, encoding="utf-8")
        daemon = self.daemon = Daemon(
            settings_for_tests(http_host="127.0.0.1", http_port=0, **self.settings),
            clock=self.clock,
            calendar_path=path,
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
        self._ready.set()
        await daemon.run()

    def start(self) -> str:
        """Start and return the base URL."""
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failure is not None or self.daemon is None or self.daemon.http_address is None:
            raise RuntimeError(f"the daemon did not start: {self._failure!r}")
        host, port = self.daemon.http_address
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._loop is not None and self.daemon is not None:
            self._loop.call_soon_threadsafe(self.daemon.request_stop)
        self._thread.join(timeout=30)
