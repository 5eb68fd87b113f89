"""Shared pieces: the result record, the sink process, scratch databases and alertd daemons as subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alertd.domain import EventSpec
from alertd.planning.planner import plan_reminders
from alertd.storage.db import create_engine, migrate
from alertd.storage.eventrows import EVENT, event_values
from alertd.storage.outbox import enqueue
from alertd.timeexpr import parse_offset

__all__ = [
    "DaemonProcess",
    "Result",
    "SinkProcess",
    "Workspace",
    "apart_from",
    "calendar_yaml",
    "db_events",
    "fresh_db",
    "median",
    "percentile",
    "seed_db_events",
]


@dataclass(slots=True)
class Result:
    """One benchmark's headline figure against its baseline, plus every detail worth keeping."""

    name: str
    figure: float
    baseline: float
    unit: str
    target: str
    passed: bool
    # "ratio" is figure / baseline unless a benchmark says otherwise.
    ratio: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Whether every notification arrived, once. Unlike a speed, this must hold in every run, not in most.
    correct: bool = True

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.figure / self.baseline


def median(values: Iterable[float]) -> float:
    data = list(values)
    return statistics.median(data) if data else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0–1) by the nearest-rank method."""
    if not values:
        return float("nan")
    data = sorted(values)
    rank = max(1, min(len(data), round(q * len(data) + 0.5)))
    return data[rank - 1]


class Workspace:
    """A scratch folder for databases, calendars and logs; removed at the end unless asked to keep it."""

    def __init__(self, keep: bool = False) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="alertd-bench-")
        self.path = Path(self._tmp.name)
        self.keep = keep

    def file(self, name: str) -> Path:
        return self.path / name

    def close(self) -> None:
        if self.keep:
            print(f"scratch files kept in {self.path}", file=sys.stderr)
        else:
            self._tmp.cleanup()


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class SinkProcess:
    """The loopback HTTP sink (``bench.sink``) in its own process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sink"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=_env(),
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip():
            raise RuntimeError("the sink did not start")
        self.port = int(line)
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/hook") -> str:
        return self.base + path

    def stats(self, *, arrivals: bool = False) -> dict[str, Any]:
        with urllib.request.urlopen(self.base + ("/stats?arrivals=1" if arrivals else "/stats"), timeout=30) as r:
            data: dict[str, Any] = json.loads(r.read())
        return data

    def reset(self) -> None:
        req = urllib.request.Request(self.base + "/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=30):
            pass

    def wait_for(self, count: int, timeout: float) -> dict[str, Any]:
        """Poll until ``count`` requests arrived (or ``timeout`` real seconds passed); return the last stats."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats["count"] >= count or time.monotonic() > deadline:
                return stats
            time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@contextmanager
def apart_from(sink: SinkProcess) -> Iterator[str]:
    """Run this thread (and the threads it starts) on one core and the sink on another, then restore both.

    On a small machine the measured process and the sink otherwise share cores with each other and with whatever
    else runs, and the scheduler moving alertd's two threads (event loop, database) across cores costs it about a
    sixth of its throughput in cache traffic, a cost that depends on the machine, not on alertd. Every side of a
    comparison is measured under the same pinning. Yields how it was done, for the report.
    """
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned: this platform cannot set CPU affinity"
        return
    mine = os.sched_getaffinity(0)
    cores = sorted(mine)
    if len(cores) < 2:
        yield "not pinned: only one core available"
        return
    theirs = os.sched_getaffinity(sink.proc.pid)
    os.sched_setaffinity(0, {cores[0]})
    os.sched_setaffinity(sink.proc.pid, {cores[1]})
    try:
        yield f"measured threads on core {cores[0]}, the sink on core {cores[1]}"
    finally:
        os.sched_setaffinity(0, mine)
        os.sched_setaffinity(sink.proc.pid, theirs)


def fresh_db(path: Path) -> sa.Engine:
    """A new SQLite file migrated to alertd's newest schema, through alertd's own engine factory."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


def calendar_yaml(path: Path, sink_url: str, *, channels: Sequence[str] = ("hook",)) -> Path:
    """A calendar with webhook channels to the sink and no events (benchmark events live in the database)."""
    lines = ["version: 1", "timezone: UTC", "defaults:", "  countdown: false", "channels:"]
    for cid in channels:
        lines += [f"  {cid}:", "    type: webhook", f'    url: "{sink_url}/{cid}"']
    lines.append("events: []")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def db_events(starts: Sequence[datetime], *, offset: str, channels: Sequence[str], prefix: str) -> list[EventSpec]:
    """Database-owned events (``owner='db'``: the calendar file leaves them alone), one reminder each."""
    reminders = (parse_offset(offset),)
    return [
        EventSpec(
            id=f"{prefix}-{i:07d}",
            title=f"Benchmark event {i}",
            local_start=start.astimezone(UTC).replace(tzinfo=None),
            all_day=False,
            timezone="UTC",
            starts_at=start,
            reminders=reminders,
            notify=tuple(channels),
            countdown=False,
            owner="db",
        )
        for i, start in enumerate(starts)
    ]


def seed_db_events(engine: sa.Engine, events: Sequence[EventSpec], *, now: datetime) -> int:
    """Store ``events`` and queue their reminders with alertd's planner and outbox; return the rows queued."""
    queued = 0
    with engine.begin() as conn:
        rows = [event_values(e, revision=1, now=now) for e in events]
        for start in range(0, len(rows), 5000):
            conn.execute(EVENT.insert(), rows[start : start + 5000])
        planned = [p for e in events for p in plan_reminders(e, e.notify)]
        queued += enqueue(conn, planned, now=now)
    return queued


class DaemonProcess:
    """``python -m alertd run`` on the real system clock, its output in files of the workspace."""

    def __init__(self, ws: Workspace, calendar: Path, db: Path, *, name: str, env: Mapping[str, str]) -> None:
        self.out = ws.file(f"{name}.out")
        self.err = ws.file(f"{name}.err")
        args = [sys.executable, "-m", "alertd", "run", "--calendar", str(calendar), "--db", f"sqlite:///{db}"]
        with self.out.open("wb") as stdout, self.err.open("wb") as stderr:
            self.proc = subprocess.Popen(
                args, cwd=ws.path, env=_env(env), stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Block until the daemon has applied its calendar; return the real seconds that took."""
        pattern = re.compile(r"calendar \S+: \d+ added")
        deadline = time.monotonic() + timeout
        while not pattern.search(self.log()):
            if self.proc.poll() is not None:
                raise RuntimeError(f"alertd exited ({self.proc.returncode}) while starting:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"alertd not ready within {timeout}s:\n{self.log()[-3000:]}")
            time.sleep(0.05)
        return time.monotonic() - self.started

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


def utcnow() -> datetime:
    return datetime.now(UTC)


def whole_second_after(seconds: float) -> datetime:
    """A UTC instant at least ``seconds`` from now, rounded up to a whole second."""
    at = utcnow() + timedelta(seconds=seconds)
    return at.replace(microsecond=0) + timedelta(seconds=1)
