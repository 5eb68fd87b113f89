"""Quiet hours on a replay clock: a reminder due inside the window is held, then delivered (late) when it ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from e2e.harness import Harness, Receivers

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 21, 50, tzinfo=UTC)
# The hook's quiet hours are 06:00-06:30 in Shanghai (22:00Z-22:30Z). At x600 one real second is ten virtual
# minutes: the 35m reminder (22:05Z) is due 1.5 s after start and held for 2.5 s, long enough to count as late
# (over a minute plus one real second); the 0m one (22:40Z) falls after the window and is not held.
CALENDAR = """
    version: 1
    timezone: UTC
    channels:
      hook:
        type: webhook
        url: "${HOOK_URL}"
        timezone: Asia/Shanghai
        quiet_hours: {from: "06:00", to: "06:30"}
    events:
      - id: summit
        title: Leaders' summit
        at: 2025-10-29T22:40
        reminders: [35m, 0m]
        notify: [hook]
"""


def test_reminder_in_quiet_hours_is_delivered_when_the_window_ends(e2e: Harness, receivers: Receivers) -> None:
    daemon = e2e.start(e2e.calendar(CALENDAR), replay_from=T0, env=receivers.env)
    hooks = receivers["hook"].wait_for(2, timeout=20)
    daemon.wait_for_log(r"held 1 notifications for hook: held by quiet hours until 06:30 Asia/Shanghai")
    daemon.wait_for_log(r"sent rem:summit:0m:hook:")
    assert daemon.stop() == 0

    held, on_time = (r.json() for r in hooks)
    assert (held["offset"], held["due_at"], held["late"]) == ("35m", "2025-10-29T22:05:00Z", True)
    assert held["sent_at"] >= "2025-10-29T22:30:00Z"
    assert (on_time["offset"], on_time["late"]) == ("0m", False)

    rows = {r["id"]: r for r in e2e.history()}
    row = rows["rem:summit:35m:hook:20251029T220500Z"]
    assert (row["state"], row["late"], row["held_until"]) == ("sent", True, "2025-10-29T22:30:00Z")
    assert rows["rem:summit:0m:hook:20251029T224000Z"]["held_until"] is None
