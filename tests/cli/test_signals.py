"""Commands whose reader goes away (``alertd history | head``) end quietly, with the status of SIGPIPE."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertd.cli.signals import PIPE_CLOSED

T0 = datetime(2025, 11, 1, tzinfo=UTC)


def alertd_piped(*args: str, cwd: Path, lines_read: int) -> tuple[int, str]:
    """``python -m alertd ARGS`` writing into a real pipe whose reader stops after ``lines_read`` lines, as
    ``| head`` does: the exit status and everything on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "alertd", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    for _ in range(lines_read):
        proc.stdout.readline()
    proc.stdout.close()
    errors = proc.stderr.read().decode()
    return proc.wait(60), errors


def database(folder: Path) -> str:
    """An up-to-date database in ``folder`` (read-only commands never create one), as its URL relative to it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    url = "sqlite:///a.db"
    subprocess.run(
        [sys.executable, "-m", "alertd", "db", "upgrade", "--db", url],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return url


def big_calendar(folder: Path, events: int = 400) -> Path:
    """A calendar whose plan is far longer than a pipe's buffer (64 KiB): the writer meets the closed pipe."""
    body = "".join(
        f"  - {{id: e{n}, title: Event number {n} of a long list, at: {(T0 + timedelta(hours=n)):%Y-%m-%dT%H:%M}}}\n"
        for n in range(events)
    )
    path = folder / "calendar.yaml"
    head = """
        version: 1
        timezone: UTC
        defaults: {reminders: [7d, 3d, 1d, 2h, 0m]}
        channels:
          out: {type: console}
        events:
    """
    path.write_text(textwrap.dedent(head).lstrip() + body, encoding="utf-8")
    return path


def test_plan_into_head_ends_quietly_with_the_sigpipe_status(tmp_path: Path) -> None:
    calendar = big_calendar(tmp_path)
    db = database(tmp_path)
    code, errors = alertd_piped(
        "plan", "--calendar", str(calendar), "--db", db, "--now", "2025-10-20T00:00Z", cwd=tmp_path, lines_read=1
    )
    assert (code, errors) == (PIPE_CLOSED, "")


@pytest.mark.parametrize(
    "args",
    [
        ("history", "--db", "sqlite:///a.db"),
        ("history", "--db", "sqlite:///a.db", "--channels"),
        ("events", "list", "--db", "sqlite:///a.db", "--calendar", "calendar.yaml"),
        (
            "plan",
            "--calendar",
            "calendar.yaml",
            "--db",
            "sqlite:///a.db",
            "--now",
            "2025-10-20T00:00Z",
            "--format",
            "json",
        ),
        ("check", "calendar.yaml"),
        ("db", "upgrade", "--db", "sqlite:///a.db"),
        ("--version",),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_every_printing_command_ends_quietly_when_its_reader_is_gone(tmp_path: Path, args: tuple[str, ...]) -> None:
    big_calendar(tmp_path, events=3)
    database(tmp_path)
    code, errors = alertd_piped(*args, cwd=tmp_path, lines_read=0)
    assert (code, errors) == (PIPE_CLOSED, "")


def test_the_daemon_stops_on_sigterm_after_its_output_readers_went_away(tmp_path: Path) -> None:
    """``alertd run 2>&1 | head``: once head has gone, saying "stopping" fails, and the stop must happen anyway."""
    import signal

    big_calendar(tmp_path, events=3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "alertd", "run", "--calendar", "calendar.yaml", "--db", "sqlite:///a.db"],
        cwd=tmp_path,
        env={**env, "ALERTD_RELOAD_INTERVAL": "0.2"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.rstrip().endswith(b"started"):
                break
        proc.stdout.close()
        # "started" is logged just before the loop takes the signals over from the early handlers.
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) in (0, PIPE_CLOSED)
    finally:
        proc.kill()
        proc.wait()
