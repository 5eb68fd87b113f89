"""End-to-end harness: alertd runs as a real subprocess (``python -m alertd``) against receivers on 127.0.0.1.

Every daemon runs on a replay clock, so virtual minutes pass in fractions of a real second; its stdout and stderr
go to files in ``tmp_path`` that the tests read (and that are printed when a test fails).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from support.receiver import Receiver

# Settings that make a daemon react within a fraction of a second (all in real seconds).
FAST_ENV = {
    "ALERTD_RELOAD_INTERVAL": "0.2",
    "ALERTD_MAX_SLEEP": "1",
    "ALERTD_DRAIN_TIMEOUT": "2",
    "ALERTD_RETRY_BASE": "0.4",
    "ALERTD_HTTP_TIMEOUT": "5",
    "ALERTD_LOG_LEVEL": "INFO",
}
_ALERTD = (sys.executable, "-m", "alertd")
_LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ")


def iso(value: datetime) -> str:
    """An instant as the CLI and the payloads write it: ``2025-10-29T23:00:00Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_calendar(path: Path, text: str) -> Path:
    """Write a calendar (dedented) to ``path`` in one step, so a watching daemon never reads half a file."""
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    os.replace(scratch, path)
    return path


def _clean_environ(extra: Mapping[str, str]) -> dict[str, str]:
    # The developer's own ALERTD_* settings must not leak into the daemon under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    env.update(FAST_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class DaemonProcess:
    """One ``alertd run`` subprocess and the files its output goes to."""

    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, *, timeout: float = 15.0, stream: str = "stderr") -> re.Match[str]:
        """Block until ``pattern`` (a regex) appears in the daemon's output; fail early if the daemon exits."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            text = self.stdout() if stream == "stdout" else self.stderr()
            found = regex.search(text)
            if found is not None:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(f"alertd exited ({self.proc.returncode}) before {pattern!r}:\n{self.describe()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} within {timeout}s:\n{self.describe()}")
            time.sleep(0.05)

    def virtual_now(self) -> datetime:
        """The replay clock's time of the latest log line (a lower bound of the daemon's current time)."""
        stamps = [m.group(1) for line in self.stderr().splitlines() if (m := _LOG_STAMP.match(line))]
        assert stamps, f"no log line yet:\n{self.describe()}"
        return datetime.strptime(stamps[-1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait for the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"alertd did not stop within {timeout}s of SIGTERM:\n{self.describe()}") from None

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to store anything."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def describe(self) -> str:
        return f"--- stdout ---\n{self.stdout()[-4000:]}\n--- stderr ---\n{self.stderr()[-6000:]}"


class Harness:
    """Starts daemons and one-shot commands in ``tmp_path``; kills every daemon still running at the end."""

    def __init__(self, tmp_path: Path, db_url: str | None = None) -> None:
        self.dir = tmp_path
        self.db = tmp_path / "a.db"
        # Several daemons may share one database URL (PostgreSQL replicas); SQLite's file lock allows one.
        self.db_url = db_url or f"sqlite:///{self.db}"
        self.daemons: list[DaemonProcess] = []

    def calendar(self, text: str, name: str = "calendar.yaml") -> Path:
        return write_calendar(self.dir / name, text)

    def start(
        self,
        calendar: Path,
        *,
        replay_from: datetime,
        speed: float = 600,
        env: Mapping[str, str] | None = None,
        ready: bool = True,
        db_url: str | None = None,
    ) -> DaemonProcess:
        """``alertd run`` on a replay clock; with ``ready`` wait until it has applied the calendar.

        ``db_url`` overrides the harness's database for this daemon (e.g. the same database through a proxy).
        """
        n = len(self.daemons) + 1
        args = [
            *_ALERTD,
            "run",
            "--calendar",
            str(calendar),
            "--db",
            db_url or self.db_url,
            "--replay-from",
            iso(replay_from),
            "--speed",
            f"{speed:g}",
        ]
        out, err = self.dir / f"daemon{n}.out", self.dir / f"daemon{n}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                args,
                cwd=self.dir,
                env=_clean_environ(env or {}),
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
        daemon = DaemonProcess(proc, out, err)
        self.daemons.append(daemon)
        if ready:
            daemon.wait_for_log(r"INFO +calendar \S+: \d+ added")
        return daemon

    def start_then_edit(
        self, before: str, after: str, *, replay_from: datetime, env: Mapping[str, str]
    ) -> DaemonProcess:
        """A daemon started on ``before``, once it has reloaded the calendar rewritten to ``after`` (one event
        changed)."""
        daemon = self.start(self.calendar(before), replay_from=replay_from, env=env)
        self.calendar(after)
        daemon.wait_for_log(r"calendar reloaded: 0 added, 1 changed")
        return daemon

    def cli(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """A one-shot ``alertd`` command, its output captured as text."""
        return subprocess.run(
            [*_ALERTD, *args],
            cwd=self.dir,
            env=_clean_environ(env or {}),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def history(self, *args: str) -> list[dict[str, Any]]:
        """``alertd history --format json`` of the test database (every state but pending), by id."""
        done = self.cli("history", "--db", self.db_url, "--format", "json", *args)
        assert done.returncode == 0, done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def close(self) -> None:
        for n, daemon in enumerate(self.daemons, 1):
            daemon.kill()
            # Shown by pytest only when the test failed.
            print(f"=== daemon {n} (exit {daemon.proc.returncode}) ===\n{daemon.describe()}")


class TimedReceiver(Receiver):
    """A :class:`Receiver` that also notes when each request arrived (``time.time()``, to compare with HTTP dates)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    async def _handle(self, request: web.Request) -> web.Response:
        self.arrivals.append(time.time())
        return await super()._handle(request)


class Receivers:
    """Named receivers on 127.0.0.1, each on its own thread; ``env`` maps ``<NAME>_URL`` to each one's URL."""

    def __init__(self, *names: str) -> None:
        self._servers = {name: TimedReceiver() for name in names}
        for server in self._servers.values():
            server.start_in_thread()

    def __getitem__(self, name: str) -> TimedReceiver:
        return self._servers[name]

    @property
    def env(self) -> dict[str, str]:
        """For a calendar's ``url: "${HOOK_URL}"``: the path looks like a real webhook's, secret token included."""
        return {
            f"{name.upper()}_URL": server.url(f"/services/T0/B0/{name}-s3cr3t")
            for name, server in self._servers.items()
        }

    def close(self) -> None:
        for server in self._servers.values():
            server.close()
