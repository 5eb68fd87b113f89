"""Restart safety: a crashed or stopped daemon resumes from the database without losing or repeating anything."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from e2e.harness import Harness, Receivers

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)


def _ids(receivers: Receivers) -> Counter[str]:
    """Deliveries per notification id, as a receiver deduplicating by ``webhook-id`` would count them."""
    return Counter(r.headers["webhook-id"] for r in receivers["hook"].requests)


# Reminders at 23:15, 23:20, 23:25 and 23:30 (1.5 s to 3 s after T0 at 600x).
CRASH_CALENDAR = """
    version: 1
    timezone: UTC
    channels:
      hook: {type: webhook, url: "${HOOK_URL}"}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-10-30T00:00
        reminders: [45m, 40m, 35m, 30m]
        notify: [hook]
"""


def test_kill_9_loses_nothing_and_resends_only_the_send_in_flight(e2e: Harness, receivers: Receivers) -> None:
    """After kill -9 mid-send and a restart on one database, each reminder arrives once, the one in flight twice."""
    receivers["hook"].reply(200)
    receivers["hook"].reply(200, delay=5)  # the second send is still waiting for its answer when the daemon dies
    calendar = e2e.calendar(CRASH_CALENDAR)
    first = e2e.start(calendar, replay_from=T0, env=receivers.env)
    receivers["hook"].wait_for(2, timeout=20)
    first.kill()

    # Virtual time goes on from about where the crash happened.
    second = e2e.start(calendar, replay_from=datetime(2025, 10, 29, 23, 20, tzinfo=UTC), env=receivers.env)
    second.wait_for_log(r"1 notifications were being sent when alertd last stopped")
    receivers["hook"].wait_for(5, timeout=20)
    second.wait_for_log(r"sent rem:expiry:30m:hook:")
    assert second.stop() == 0

    assert _ids(receivers) == {
        "rem:expiry:45m:hook:20251029T231500Z": 1,
        "rem:expiry:40m:hook:20251029T232000Z": 2,
        "rem:expiry:35m:hook:20251029T232500Z": 1,
        "rem:expiry:30m:hook:20251029T233000Z": 1,
    }
    assert {r["state"] for r in e2e.history()} == {"sent"}


# Reminders at 23:15, 23:40, 00:30 and 01:15; the daemon is down from about 23:16 to 01:00.
DOWNTIME_CALENDAR = """
    version: 1
    timezone: UTC
    channels:
      hook: {type: webhook, url: "${HOOK_URL}"}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-10-30T02:00
        reminders: [165m, 140m, 90m, 45m]
        notify: [hook]
"""


def test_downtime_sends_recent_reminders_late_and_marks_older_ones_missed(e2e: Harness, receivers: Receivers) -> None:
    """Back after downtime, a reminder overdue by less than ALERTD_CATCH_UP is sent late, an older one is missed."""
    env = {**receivers.env, "ALERTD_CATCH_UP": "1h"}
    calendar = e2e.calendar(DOWNTIME_CALENDAR)
    first = e2e.start(calendar, replay_from=T0, env=env)
    receivers["hook"].wait_for(1, timeout=20)
    first.wait_for_log(r"sent rem:expiry:165m:hook:")
    assert first.stop() == 0

    second = e2e.start(calendar, replay_from=datetime(2025, 10, 30, 1, 0, tzinfo=UTC), env=env)
    receivers["hook"].wait_for(3, timeout=20)
    second.wait_for_log(r"sent rem:expiry:45m:hook:")
    assert second.stop() == 0

    late = {r.json()["offset"]: r.json()["late"] for r in receivers["hook"].requests}
    assert late == {"165m": False, "90m": True, "45m": False}
    assert set(_ids(receivers).values()) == {1}
    rows = {r["id"].split(":")[2]: r for r in e2e.history()}
    assert {k: (r["state"], r["late"]) for k, r in rows.items()} == {
        "165m": ("sent", False),
        "140m": ("missed", False),
        "90m": ("sent", True),
        "45m": ("sent", False),
    }
    assert "catch-up window" in rows["140m"]["last_error"]
