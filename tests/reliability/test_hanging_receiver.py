"""A receiver that never answers (each request ends at the HTTP timeout) must not delay any other channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from e2e.harness import Harness

from reliability.conftest import Figures
from reliability.tools import FlakyEndpoint, reminders_calendar, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(180)]

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
SPEED = 10.0
HTTP_TIMEOUT = 4.0  # real seconds each request to the hanging receiver takes to fail


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_hanging_receiver_does_not_delay_other_channels(rel: Harness, figures: Figures) -> None:
    """Every delivery to the healthy channel is on time while each request to the hanging one waits for its timeout."""
    slow, fast = FlakyEndpoint(), FlakyEndpoint()
    slow.answer(200, hang=True)
    fast.answer(200)
    # Twelve events, one a real second from 12 s on, each reminding both channels at the same instant.
    due = [T0 + timedelta(seconds=(12 + i) * SPEED) for i in range(12)]
    calendar = rel.calendar(reminders_calendar(due, channels={"slow": "SLOW_URL", "fast": "FAST_URL"}))
    env = {
        "SLOW_URL": slow.url("/hooks/slow"),
        "FAST_URL": fast.url("/hooks/fast"),
        "ALERTD_HTTP_TIMEOUT": f"{HTTP_TIMEOUT:g}",
    }
    try:
        daemon = rel.start(calendar, replay_from=T0, speed=SPEED, env=env)
        assert wait_until(lambda: len(set(fast.ids())) >= len(due), timeout=60), daemon.describe()
        # Let the hanging channel time out at least once, so its retries overlap the healthy deliveries.
        assert wait_until(lambda: "timed out" in daemon.stderr() or "timeout" in daemon.stderr(), timeout=30)
        assert daemon.stop() == 0
    finally:
        slow.close()
        fast.close()

    # Lateness by the daemon's own clock (payload sent_at minus due_at), in real seconds.
    fast_late = [
        (_instant(a.body["sent_at"]) - _instant(a.body["due_at"])).total_seconds() / SPEED for a in fast.arrivals
    ]
    hung = len(slow.arrivals)
    figures.add("notifications per channel", len(due))
    figures.add("HTTP timeout (s)", HTTP_TIMEOUT)
    figures.add("requests left hanging (slow channel)", hung)
    figures.add("fast channel deliveries", len(fast.arrivals))
    figures.add("fast channel max lateness (real s)", max(fast_late))
    figures.add("fast channel mean lateness (real s)", sum(fast_late) / len(fast_late))

    assert hung >= 1
    assert sorted(fast.ids()) == sorted({a.body["id"] for a in fast.arrivals})  # once each
    # The criterion: no healthy delivery waited for a hanging request (which would take the full timeout).
    assert max(fast_late) < HTTP_TIMEOUT / 2, f"fast channel waited: {sorted(fast_late)[-3:]}"
