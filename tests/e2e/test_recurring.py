"""A recurring event through a real daemon and a real webhook receiver: occurrences are delivered under their own
ids, and cancelling one occurrence in the file is one change notice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from e2e.harness import Harness, Receivers

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)

# The first occurrence's reminder is due at 00:00, about 6 real seconds after T0 at 600x.
BEFORE = """
    version: 1
    timezone: UTC
    channels:
      hook: {type: webhook, url: "${HOOK_URL}"}
    events:
      - id: standup
        title: Stand-up
        at: 2025-10-30T00:30
        repeat: FREQ=DAILY;COUNT=5
        reminders: [30m]
        notify: [hook]
"""
AFTER = BEFORE + "        occurrences:\n          2025-11-02: {status: cancelled}\n"


def test_an_occurrence_is_delivered_under_its_id_and_cancelling_another_is_one_notice(
    e2e: Harness, receivers: Receivers
) -> None:
    daemon = e2e.start_then_edit(BEFORE, AFTER, replay_from=T0, env=receivers.env)
    daemon.wait_for_log(r"sent rem:standup@20251030:30m:hook:", timeout=30)
    assert daemon.stop() == 0

    hooks = [r.json() for r in receivers["hook"].requests]
    assert Counter(p["kind"] for p in hooks) == {"change": 1, "reminder": 1}
    reminder = next(p for p in hooks if p["kind"] == "reminder")
    assert (reminder["event"]["id"], reminder["event"]["starts_at"]) == ("standup@20251030", "2025-10-30T00:30:00Z")
    change = next(p for p in hooks if p["kind"] == "change")
    assert change["event"]["id"] == "standup@20251102"
    assert change["change"]["after"]["status"] == "cancelled"
    rows = e2e.history()
    assert {r["state"] for r in rows if r["event_id"] == "standup@20251102" and r["kind"] == "reminder"} == {
        "cancelled"
    }
