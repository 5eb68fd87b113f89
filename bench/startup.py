"""Start-up cost of the CLI and the daemon's settled memory, against a bare ``python -c pass`` in the same run.

Each command runs ``runs`` times as a child process; its CPU time (user + system) and peak memory (``ru_maxrss``)
come from ``os.wait4``, which reports exactly that child's own usage. The rows give medians. The daemon runs the
seed calendar (one console channel) and its resident memory is sampled after it settled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.common import DaemonProcess, Result, Workspace, median

__all__ = ["COMMANDS", "Usage", "measure", "run"]

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "us-china-truce-2025.yaml"
_MIB = 1024 * 1024
_MB = 1_000_000
# A fixed "now" inside the seed's timeline, so that ``plan`` lists the same 38 notifications on every run.
_PLAN_NOW = "2025-10-20T00:00Z"

# (row, alertd's arguments, CPU ratio target, peak MiB target or None)
COMMANDS: tuple[tuple[str, tuple[str, ...], float, float | None], ...] = (
    ("help", ("--help",), 4.0, None),
    ("check", ("check", str(SEED)), 8.0, 45.0),
    ("plan", ("plan", "--calendar", str(SEED), "--now", _PLAN_NOW), 16.0, 70.0),
)
DAEMON_TARGET_MB = 60.0


@dataclass(frozen=True, slots=True)
class Usage:
    """One child's CPU seconds (user + system), peak resident MiB and exit status."""

    cpu: float
    peak_mib: float
    status: int


# Runs in a small interpreter of its own: a child's peak memory (ru_maxrss) starts at its parent's, as fork copies
# and exec keeps the high-water mark, so children of this (large) benchmark process would all show ours. The
# helper's own few MiB stay below any Python child's peak.
_HELPER = """
import json, os, sys
spec = json.loads(sys.argv[1])
os.chdir(spec["cwd"])
null = os.open(os.devnull, os.O_RDWR)
found = []
for args in spec["commands"]:
    pid = os.posix_spawn(args[0], args, spec["env"], file_actions=[(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)])
    _, status, ru = os.wait4(pid, 0)
    found.append([ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)])
print(json.dumps(found))
"""


def measure(commands: Sequence[Sequence[str]], cwd: Path) -> list[Usage]:
    """Run each command to its end in ``cwd``, one after another, output discarded, with no ALERTD_* variables;
    report each one's own CPU and peak memory from ``os.wait4`` (Linux: ru_maxrss in KiB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    spec = {"cwd": str(cwd), "env": env, "commands": [list(c) for c in commands]}
    done = subprocess.run(
        [sys.executable, "-c", _HELPER, json.dumps(spec)], capture_output=True, text=True, check=True, timeout=600
    )
    return [Usage(cpu, peak, status) for cpu, peak, status in json.loads(done.stdout)]


def _series(commands: dict[str, list[str]], cwd: Path, runs: int) -> dict[str, list[Usage]]:
    """``runs`` rounds, each running every command once, so that a busy moment of the machine hits all alike."""
    order = list(commands)
    found: dict[str, list[Usage]] = {name: [] for name in order}
    for _ in range(runs):
        for name, usage in zip(order, measure([commands[n] for n in order], cwd), strict=True):
            if usage.status != 0:
                raise RuntimeError(f"{' '.join(commands[name])} exited with {usage.status}")
            found[name].append(usage)
    return found


def _settled_rss(ws: Workspace, db: Path, settle: float, name: str) -> tuple[list[float], float]:
    """RSS samples (MB) of a daemon on the seed calendar and ``db`` once it applied its calendar and settled."""
    daemon = DaemonProcess(ws, SEED, db, name=name, env={})
    try:
        ready = daemon.wait_ready()
        time.sleep(settle)
        proc = psutil.Process(daemon.pid)
        samples = []
        for _ in range(10):
            samples.append(proc.memory_info().rss / _MB)
            time.sleep(0.2)
    finally:
        daemon.stop()
    return samples, ready


def _daemon_rss(ws: Workspace, settle: float) -> tuple[float, dict[str, float]]:
    """The daemon restarted on its database, as it runs most of its life. Its very first start on a new file
    also loads alembic to create the schema; that figure is kept in the details."""
    db = ws.file("seed.db")
    first, _ = _settled_rss(ws, db, settle, "seed-first")
    samples, ready = _settled_rss(ws, db, settle, "seed")
    return median(samples), {
        "daemon_ready_s": ready,
        "rss_min_mb": min(samples),
        "rss_max_mb": max(samples),
        "first_start_rss_mb": median(first),
    }


def run(ws: Workspace, *, quick: bool, runs: int = 5) -> list[Result]:
    """One row per command for CPU, one per command with a memory target for its peak, and the daemon's RSS."""
    cwd = ws.path  # no .env there
    commands = {"bare": [sys.executable, "-c", "pass"]}
    commands.update({row: [sys.executable, "-m", "alertd", *args] for row, args, _, _ in COMMANDS})
    series = _series(commands, cwd, runs)
    bare = series["bare"]
    bare_cpu = median(u.cpu for u in bare)
    bare_peak = median(u.peak_mib for u in bare)
    results: list[Result] = []
    for row, _, cpu_target, peak_target in COMMANDS:
        usage = series[row]
        cpu = median(u.cpu for u in usage)
        details: dict[str, object] = {
            "runs": runs,
            "cpu_s": [u.cpu for u in usage],
            "bare_cpu_s": [u.cpu for u in bare],
        }
        results.append(
            Result(
                name=f"start {row} CPU",
                figure=cpu * 1000,
                baseline=bare_cpu * 1000,
                unit="ms CPU",
                target=f"≤ {cpu_target:g}×",
                passed=cpu <= cpu_target * bare_cpu,
                details=details,
            )
        )
        if peak_target is not None:
            peak = median(u.peak_mib for u in usage)
            results.append(
                Result(
                    name=f"start {row} peak",
                    figure=peak,
                    baseline=bare_peak,
                    unit="MiB peak",
                    target=f"≤ {peak_target:g} MiB",
                    passed=peak <= peak_target,
                    details={"runs": runs, "peak_mib": [u.peak_mib for u in usage]},
                )
            )
    rss, daemon = _daemon_rss(ws, settle=2.0 if quick else 8.0)
    results.append(
        Result(
            name="start daemon RSS",
            figure=rss,
            baseline=bare_peak * _MIB / _MB,
            unit="MB RSS",
            target=f"≤ {DAEMON_TARGET_MB:g} MB",
            passed=rss <= DAEMON_TARGET_MB,
            details=dict(daemon),
        )
    )
    return results
