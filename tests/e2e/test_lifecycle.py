"""A running daemon's lifecycle: calendar edits, a second daemon on one SQLite file, and stopping on signals."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from e2e.harness import Harness, Receivers

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)

# Far away at first: nothing is due while the test runs, until the event is moved.
BEFORE = """
    version: 1
    timezone: UTC
    channels:
      hook: {type: webhook, url: "${HOOK_URL}"}
      team: {type: slack, url: "${SLACK_URL}"}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-11-10T00:00
        reminders: [30m]
        notify: [hook, team]
"""
# Moved to half past midnight: its reminder is due at 00:00, about 6 real seconds after T0 at 600x, which leaves a
# slow reload a margin.
AFTER = BEFORE.replace("2025-11-10T00:00", "2025-10-30T00:30")


def test_moving_an_event_sends_one_change_notice_per_channel_and_replans_its_reminders(
    e2e: Harness, receivers: Receivers
) -> None:
    daemon = e2e.start_then_edit(BEFORE, AFTER, replay_from=T0, env=receivers.env)
    daemon.wait_for_log(r"sent rem:expiry:30m:hook:", timeout=30)
    daemon.wait_for_log(r"sent rem:expiry:30m:team:", timeout=30)
    assert daemon.stop() == 0

    hooks = [r.json() for r in receivers["hook"].requests]
    assert Counter(p["kind"] for p in hooks) == {"change": 1, "reminder": 1}
    reminder = next(p for p in hooks if p["kind"] == "reminder")
    assert (reminder["due_at"], reminder["event"]["starts_at"]) == ("2025-10-30T00:00:00Z", "2025-10-30T00:30:00Z")
    assert len(receivers["slack"].requests) == 2
    rows = e2e.history()
    changes = Counter(r["channel"] for r in rows if r["kind"] == "change" and r["state"] == "sent")
    assert changes == {"hook": 1, "team": 1}
    reminders = {(r["channel"], r["due_at"], r["state"]) for r in rows if r["kind"] == "reminder"}
    assert ("hook", "2025-10-30T00:00:00Z", "sent") in reminders
    assert ("team", "2025-10-30T00:00:00Z", "sent") in reminders
    assert {r["state"] for r in rows if r["kind"] == "reminder" and r["due_at"].startswith("2025-11-09")} == {
        "cancelled"
    }


def test_a_second_daemon_on_the_same_sqlite_file_refuses_to_start(e2e: Harness, receivers: Receivers) -> None:
    calendar = e2e.calendar(BEFORE)
    first = e2e.start(calendar, replay_from=T0, env=receivers.env)
    second = e2e.start(calendar, replay_from=T0, env=receivers.env, ready=False)
    assert second.proc.wait(30) == 1
    errors = second.stderr()
    assert "Traceback" not in errors
    messages = [line for line in errors.splitlines() if line.startswith("alertd: ")]
    assert len(messages) == 1
    assert f"another alertd (pid {first.pid}) is already running" in messages[0]
    assert "stopped" not in errors  # it never started
    assert first.proc.poll() is None
    assert first.stop() == 0


@pytest.mark.parametrize("link", [os.symlink, os.link], ids=["symlink", "hard-link"])
def test_a_second_daemon_on_the_same_file_through_a_link_refuses_to_start(
    e2e: Harness, receivers: Receivers, link: Any
) -> None:
    """One daemon per SQLite file however it is reached: the second is refused with one line on stderr."""
    calendar = e2e.calendar(BEFORE)
    first = e2e.start(calendar, replay_from=T0, env=receivers.env)
    (e2e.dir / "elsewhere").mkdir()
    alias = e2e.dir / "elsewhere" / "alias.db"
    link(e2e.db, alias)
    second = e2e.start(calendar, replay_from=T0, env=receivers.env, ready=False, db_url=f"sqlite:///{alias}")
    assert second.proc.wait(30) == 1
    errors = second.stderr()
    assert "Traceback" not in errors
    messages = [line for line in errors.splitlines() if line.startswith("alertd: ")]
    assert len(messages) == 1
    assert f"another alertd (pid {first.pid}) is already running on {alias}" in messages[0]
    assert first.proc.poll() is None
    assert first.stop() == 0


def test_sigterm_stops_a_running_daemon_cleanly(e2e: Harness, receivers: Receivers) -> None:
    daemon = e2e.start(e2e.calendar(BEFORE), replay_from=T0, env=receivers.env)
    daemon.signal(signal.SIGTERM)
    try:
        code = daemon.proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"alertd still running 10 s after SIGTERM:\n{daemon.describe()}")
    assert code == 0
    assert "alertd: stopping" in daemon.stderr()
    daemon.wait_for_log(r"INFO +stopped$")


# The reminder is due at 23:15; the receiver holds its answer, so the daemon is draining when signalled.
SLOW = """
    version: 1
    timezone: UTC
    channels:
      hook: {type: webhook, url: "${HOOK_URL}"}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-10-29T23:45
        reminders: [30m]
        notify: [hook]
"""


def test_a_second_signal_exits_at_once(e2e: Harness, receivers: Receivers) -> None:
    receivers["hook"].reply(200, delay=8)
    env = {**receivers.env, "ALERTD_DRAIN_TIMEOUT": "60", "ALERTD_HTTP_TIMEOUT": "30"}
    daemon = e2e.start(e2e.calendar(SLOW), replay_from=T0, env=env)
    receivers["hook"].wait_for(1, timeout=20)
    daemon.signal(signal.SIGTERM)
    daemon.wait_for_log(r"alertd: stopping")
    assert daemon.proc.poll() is None  # still draining the send in flight
    daemon.signal(signal.SIGTERM)
    try:
        code = daemon.proc.wait(5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"alertd ignored the second signal:\n{daemon.describe()}")
    assert code != 0
    assert "second signal, exiting immediately" in daemon.stderr()
