"""PostgreSQL unreachable for a while: the daemon stays up, says so once, reports not ready, and loses nothing.

The shared server cannot be stopped, so the daemon reaches it through a TCP proxy in the test; cutting the proxy
drops every open connection and refuses new ones, which is what a database restart or a network cut looks like.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from e2e.harness import Harness

from reliability.conftest import Figures
from reliability.tools import FlakyEndpoint, TcpProxy, reminders_calendar, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(180)]

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
SPEED = 10.0
OUTAGE = 30.0  # real seconds, as long as the acceptance criterion asks
_LEVEL = re.compile(r"^\S+ \[replay x\S+\] (WARNING|ERROR|CRITICAL) ", re.MULTILINE)


def _readyz(port: int) -> tuple[int, dict[str, object]]:
    answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10, trust_env=False)
    body: dict[str, object] = answer.json()
    return answer.status_code, body


def test_database_outage_keeps_the_daemon_up_and_loses_nothing(rel: Harness, fresh_pg: str, figures: Figures) -> None:
    """Cut for 30 s: one log line for the outage, /readyz 503 meanwhile, then every notification sent once."""
    hook = FlakyEndpoint()
    hook.answer(200)
    server = sa.make_url(fresh_pg)
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
    through_proxy = server.set(port=proxy.port).render_as_string(hide_password=False)
    # Sixteen reminders, one every 3 real seconds from 12 s: before, during and after the outage.
    due = [T0 + timedelta(seconds=(12 + 3 * i) * SPEED) for i in range(16)]
    calendar = rel.calendar(reminders_calendar(due, channels={"hook": "HOOK_URL"}))
    env = {"HOOK_URL": hook.url("/hooks/s3cr3t"), "ALERTD_HTTP_PORT": "0"}
    rel.db_url = fresh_pg  # the test reads history directly; only the daemon goes through the proxy
    try:
        daemon = rel.start(calendar, replay_from=T0, speed=SPEED, env=env, db_url=through_proxy)
        port = int(daemon.wait_for_log(r"HTTP API listening on http://127\.0\.0\.1:(\d+)").group(1))
        assert wait_until(lambda: len(hook.arrivals) >= 2, timeout=40), daemon.describe()
        before = len(hook.arrivals)
        log_mark = len(daemon.stderr())
        proxy.cut()
        cut_at = time.time()
        ready_during: list[int] = []
        while time.time() < cut_at + OUTAGE:
            assert daemon.proc.poll() is None, f"alertd exited during the outage:\n{daemon.describe()}"
            ready_during.append(_readyz(port)[0])
            time.sleep(1.0)
        outage_log = daemon.stderr()[log_mark:]
        proxy.restore()
        restored = time.time()
        assert wait_until(lambda: "database reachable again" in daemon.stderr()[log_mark:], timeout=30)
        resumed = time.time()
        assert wait_until(lambda: len(set(hook.ids())) >= len(due), timeout=60), daemon.describe()
        assert wait_until(lambda: _readyz(port)[0] == 200, timeout=20)
        status_after, body_after = _readyz(port)
        assert daemon.stop() == 0
        full_log = daemon.stderr()
        history = rel.history()
    finally:
        hook.close()
        proxy.close()

    outage_lines = [line for line in outage_log.splitlines() if _LEVEL.match(line)]
    copies = Counter(hook.ids())
    figures.add("notifications", len(due))
    figures.add("outage (s)", OUTAGE)
    figures.add("delivered before the cut", before)
    figures.add("warning/error lines during the outage", len(outage_lines))
    figures.add("/readyz during the outage", dict(Counter(ready_during)))
    figures.add("/readyz after recovery", status_after)
    figures.add("resumed after restore (s)", resumed - restored)
    figures.add("lost", len(due) - len(copies))
    figures.add("duplicates", sum(copies.values()) - len(copies))
    figures.add("final states", dict(Counter(r["state"] for r in history)))

    # One clear line per outage, not one per retry.
    assert [("deliveries paused" in line) for line in outage_lines] == [True], "\n".join(outage_lines)
    assert full_log.count("deliveries paused") == 1
    assert ready_during
    assert set(ready_during) == {503}
    assert status_after == 200
    assert body_after["ready"] is True
    assert set(copies) == {r["id"] for r in history}
    assert len(copies) == len(due)
    assert set(copies.values()) == {1}
    assert {r["state"] for r in history} == {"sent"}
    # After the listener's connection came back it asked for a catch-up step.
    assert "wake-up listener connected again" in full_log
