"""Targets 5 and 6: a daemon's resident memory over a large outbox, and how often it wakes when nothing is due.

memory: a daemon on a database holding N pending reminders (not due for weeks), RSS once it has settled (psutil).
Baseline: RSS of a bare ``python`` that imported ``alertd.daemon`` (everything the daemon imports).

idle: a daemon whose only notification is due in a day, over a window of real time at log level DEBUG: the timer's
wake-ups (``wake: timer fired`` lines) per 30 s. For information, the process's voluntary context switches (every
time any of its threads woke up, e.g. the calendar file poll) are reported as well.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil

from bench.common import (
    DaemonProcess,
    Result,
    SinkProcess,
    Workspace,
    calendar_yaml,
    db_events,
    fresh_db,
    median,
    seed_db_events,
    utcnow,
)
from bench.planning import _EVENT_COLS

_OFFSETS = ("7d", "1d", "1h", "0m")
_MB = 1024 * 1024


def _fill(path: Path, n_rows: int) -> None:
    """Store n_rows/4 database-owned events with 4 pending reminders each, due from 30 days on (raw inserts)."""
    now = utcnow().replace(microsecond=0)
    stamp = now.replace(tzinfo=None).isoformat(" ", "microseconds")
    first = now.replace(tzinfo=None) + timedelta(days=40)
    n_events = n_rows // len(_OFFSETS)
    deltas = {"7d": timedelta(days=7), "1d": timedelta(days=1), "1h": timedelta(hours=1), "0m": timedelta()}

    def events() -> Iterator[tuple[Any, ...]]:
        for i in range(n_events):
            start = first + timedelta(seconds=10 * i)
            yield (
                f"m-{i:07d}",
                f"Benchmark event {i}",
                start.isoformat(),
                False,
                "UTC",
                start.isoformat(" ", "microseconds"),
                "confirmed",
                "[]",
                None,
                None,
                '["7d", "1d", "1h", "0m"]',
                '["hook"]',
                "09:00",
                False,
                "db",
                "0" * 32,
                1,
                False,
                stamp,
            )

    def notes() -> Iterator[tuple[Any, ...]]:
        for i in range(n_events):
            start = first + timedelta(seconds=10 * i)
            for off in _OFFSETS:
                due = start - deltas[off]
                at = due.isoformat(" ", "microseconds")
                expires = start.isoformat(" ", "microseconds") if due < start else None
                rid = f"rem:m-{i:07d}:{off}:hook:{due:%Y%m%dT%H%M%SZ}"
                yield (rid, "reminder", f"m-{i:07d}", "hook", off, at, at, expires, "pending", 0, False, stamp, stamp)

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    cols = ", ".join(_EVENT_COLS)
    conn.executemany(f"INSERT INTO event ({cols}) VALUES ({', '.join('?' * len(_EVENT_COLS))})", events())
    conn.executemany(
        'INSERT INTO notification (id, kind, event_id, channel, "offset", due_at, next_at, expires_at, state, '
        "attempts, late, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        notes(),
    )
    conn.execute("COMMIT")
    conn.close()


def _rss_samples(pid: int, count: int, every: float) -> list[float]:
    proc = psutil.Process(pid)
    samples = []
    for _ in range(count):
        samples.append(proc.memory_info().rss / _MB)
        time.sleep(every)
    return samples


def _bare_rss(settle: float) -> float:
    code = "import alertd, alertd.daemon, sys, time; print('ready', flush=True); time.sleep(600)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(settle)
        return median(_rss_samples(proc.pid, 5, 0.2))
    finally:
        proc.terminate()
        proc.wait(10)


def run_memory(ws: Workspace, sink: SinkProcess, *, quick: bool) -> Result:
    n = 50_000 if quick else 1_000_000
    settle = 2.0 if quick else 8.0
    db = ws.file("memory.db")
    fresh_db(db).dispose()
    started = time.perf_counter()
    _fill(db, n)
    fill_s = time.perf_counter() - started
    daemon = DaemonProcess(ws, calendar_yaml(ws.file("memory.yaml"), sink.url()), db, name="memory", env={})
    try:
        ready_s = daemon.wait_ready(timeout=300)
        peak_start = psutil.Process(daemon.pid).memory_info().rss / _MB
        time.sleep(settle)
        samples = _rss_samples(daemon.pid, 10, 0.3)
        uss = psutil.Process(daemon.pid).memory_full_info().uss / _MB
    finally:
        daemon.stop()
    rss = median(samples)
    bare = _bare_rss(settle=1.0)
    return Result(
        name="memory",
        figure=rss,
        baseline=bare,
        unit="MB RSS",
        target="≤ 70 MB",
        passed=rss <= 70.0,
        details={
            "pending_notifications": n,
            "db_mb": db.stat().st_size / _MB,
            "fill_s": fill_s,
            "daemon_ready_s": ready_s,
            "rss_at_ready_mb": peak_start,
            "rss_samples_mb": samples,
            "uss_mb": uss,
            "bare_python_import_alertd_daemon_mb": bare,
        },
    )


class IdleWatch:
    """An idle daemon started early and read late, so its window overlaps the other benchmarks' run time."""

    def __init__(self, ws: Workspace, sink: SinkProcess, *, quick: bool) -> None:
        self.window = 10.0 if quick else 65.0
        db = ws.file("idle.db")
        engine = fresh_db(db)
        start = utcnow() + timedelta(days=1, hours=1)
        seed_db_events(engine, db_events([start], offset="1h", channels=("hook",), prefix="i"), now=utcnow())
        engine.dispose()
        env = {"ALERTD_LOG_LEVEL": "DEBUG"}
        self.daemon = DaemonProcess(ws, calendar_yaml(ws.file("idle.yaml"), sink.url()), db, name="idle", env=env)
        self.daemon.wait_ready()
        self.started = time.monotonic()
        self.wakes0 = self._wakes()
        self.switches0 = self._switches()

    def _wakes(self) -> int:
        return self.daemon.log().count("wake: timer fired")

    def _switches(self) -> int:
        proc = psutil.Process(self.daemon.pid)
        total = 0
        for thread in proc.threads():
            try:
                total += psutil.Process(thread.id).num_ctx_switches().voluntary
            except psutil.Error:
                continue
        return total

    def finish(self) -> Result:
        remaining = self.window - (time.monotonic() - self.started)
        if remaining > 0:
            time.sleep(remaining)
        elapsed = time.monotonic() - self.started
        wakes = self._wakes() - self.wakes0
        switches = self._switches() - self.switches0
        threads = len(psutil.Process(self.daemon.pid).threads())
        self.daemon.stop()
        per30 = wakes * 30.0 / elapsed
        return Result(
            name="idle",
            figure=per30,
            baseline=1.0,
            unit="wakes/30s",
            target="≤ 1 per 30 s",
            passed=per30 <= 1.0,
            details={
                "window_s": elapsed,
                "timer_wakes": wakes,
                "voluntary_ctx_switches": switches,
                "ctx_switches_per_30s": switches * 30.0 / elapsed,
                "threads": threads,
            },
        )

    def close(self) -> None:
        self.daemon.stop()
