"""A receiver that refuses connections, then answers 503, then 429 with Retry-After, then recovers.

Every notification is delivered once the receiver is back (none missed: each was attempted on time, so the
catch-up window does not apply), those that came due during the outage are marked late, every retry carries the
same id, and no retry comes sooner than the receiver's Retry-After asked.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from e2e.harness import Harness

from reliability.conftest import Figures
from reliability.tools import FlakyEndpoint, reminders_calendar, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(180)]

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
SPEED = 10.0
RETRY_AFTER = 3  # real seconds the receiver asks for; the daemon scales it to virtual time itself
# Phases in real seconds since the daemon was started: refused, then 503, then 429, then 200.
REFUSED_UNTIL, UNAVAILABLE_UNTIL, THROTTLED_UNTIL = 18.0, 26.0, 32.0


def test_receiver_outage_then_recovery_delivers_everything_and_honours_retry_after(
    rel: Harness, figures: Figures
) -> None:
    """Refused, 503, 429 + Retry-After, recovery: all sent once, late where due in the outage, Retry-After kept."""
    hook = FlakyEndpoint()  # not listening yet: connection refused
    # Ten reminders, one every 3 real seconds from 12 s: during every phase of the outage and after it.
    due = [T0 + timedelta(seconds=(12 + 3 * i) * SPEED) for i in range(10)]
    calendar = rel.calendar(reminders_calendar(due, channels={"hook": "HOOK_URL"}))
    env = {
        "HOOK_URL": hook.url("/hooks/s3cr3t"),
        # Backoff capped at 2 s so the recovery is seen quickly; enough attempts to outlast the whole outage.
        "ALERTD_RETRY_CAP": "2",
        "ALERTD_MAX_ATTEMPTS": "40",
    }
    try:
        wall0 = time.time()
        daemon = rel.start(calendar, replay_from=T0, speed=SPEED, env=env)
        phases: list[tuple[float, Callable[[], None]]] = [
            (REFUSED_UNTIL, lambda: hook.answer(503)),
            (UNAVAILABLE_UNTIL, lambda: hook.answer(429, {"Retry-After": str(RETRY_AFTER)})),
            (THROTTLED_UNTIL, lambda: hook.answer(200)),
        ]
        for until, switch in phases:
            time.sleep(max(0.0, wall0 + until - time.time()))
            switch()
        recovered = time.time()
        assert wait_until(lambda: len(set(hook.ids(200))) >= len(due), timeout=60), daemon.describe()
        assert daemon.stop() == 0
        history = rel.history()
    finally:
        hook.close()

    arrivals = list(hook.arrivals)
    answers = Counter(a.status for a in arrivals)
    ok = Counter(hook.ids(200))
    # After each 429, the same notification's next request must wait at least Retry-After.
    gaps = []
    for n, a in enumerate(arrivals):
        if a.status == 429:
            later = [b.at for b in arrivals[n + 1 :] if b.webhook_id == a.webhook_id]
            if later:
                gaps.append(later[0] - a.at)
    late = {a.webhook_id: a.body["late"] for a in arrivals if a.status == 200}
    due_by_id = {a.webhook_id: datetime.fromisoformat(a.body["due_at"].replace("Z", "+00:00")) for a in arrivals}
    outage_end = T0 + timedelta(seconds=(recovered - wall0) * SPEED)
    figures.add("notifications", len(due))
    figures.add("503 answers", answers[503])
    figures.add("429 answers", answers[429])
    figures.add("200 answers", answers[200])
    figures.add("Retry-After asked (s)", RETRY_AFTER)
    figures.add("shortest wait after a 429 (s)", min(gaps) if gaps else float("nan"))
    backlog = [a.at for a in arrivals if a.status == 200 and due_by_id[a.webhook_id] < outage_end]
    figures.add("backlog (due in the outage) delivered", len(backlog))
    figures.add("backlog cleared after recovery (s)", max(backlog) - recovered if backlog else float("nan"))
    figures.add("final states", dict(Counter(r["state"] for r in history)))

    assert set(ok) == {r["id"] for r in history}
    assert len(ok) == len(due)
    assert set(ok.values()) == {1}, "a notification was accepted twice"
    assert all(a.webhook_id == a.body["id"] for a in arrivals), "a retry carried a different id"
    assert {r["state"] for r in history} == {"sent"}
    assert answers[503] > 0
    assert answers[429] > 0
    assert gaps, "no notification was retried after a 429"
    # The endpoint stamps a request when its handler runs, which can lag by tens of milliseconds on a busy machine.
    assert min(gaps) >= RETRY_AFTER - 0.1, f"Retry-After not honoured: waits {sorted(gaps)[:5]}"
    # Due before the receiver recovered (with a minute of grace, ALERTD_LATE_AFTER): sent late.
    assert all(late[i] for i, d in due_by_id.items() if d < outage_end - timedelta(minutes=2))
