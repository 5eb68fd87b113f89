"""Escalation across three ``alertd run`` processes on one PostgreSQL database: each step of an unacknowledged
event reaches the pager exactly once; no step of an event acknowledged before it is ever sent."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from e2e.harness import Harness

from alertd.calendar import load_calendar
from alertd.storage import ack_event
from reliability.conftest import Figures
from reliability.tools import FlakyEndpoint, Replicas

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(300)]

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
SPEED = 10.0
EVENTS = 40  # the first half is acknowledged before any step is due
STEPS = 4  # 4m, 3m, 2m and 1m before each start


def _calendar() -> str:
    lines = ["version: 1", "timezone: UTC", "defaults: {reminders: [], countdown: false, notify: [desk]}", "channels:"]
    lines += ["  desk: {type: console}", '  pager: {type: webhook, url: "${HOOK_URL}"}', "events:"]
    for i in range(EVENTS):
        at = T0 + timedelta(minutes=8, seconds=3 * i)
        lines += [
            f"  - id: e{i:03d}",
            f"    title: Deadline {i}",
            f"    at: {at:%Y-%m-%dT%H:%M:%S}",
            "    escalate: [{at: 4m, unless: acknowledged, notify: [pager], repeat: 1m}]",
        ]
    return "\n".join(lines) + "\n"


def test_each_unacknowledged_step_is_sent_once_and_no_acknowledged_one_at_all(
    rel: Harness, fresh_pg: str, figures: Figures
) -> None:
    hook = FlakyEndpoint()
    hook.answer(200)
    db = sa.create_engine(fresh_pg)
    try:
        rel.db_url = fresh_pg
        env = {"HOOK_URL": hook.url("/pager"), "ALERTD_LEASE": "5"}
        path = rel.calendar(_calendar())
        fleet = Replicas(rel, path, env, T0, SPEED)
        wall0 = fleet.wall0
        replicas = fleet.start_together(3)
        calendar, _ = load_calendar(path, environ=env)
        acked_at = fleet.virtual_now()
        assert acked_at < T0 + timedelta(minutes=4), "the replicas started too slowly for this test's schedule"
        for i in range(EVENTS // 2):
            ack_event(db, calendar, event_id=f"e{i:03d}", by="desk", via="api", now=acked_at)
        end = wall0 + (8 * 60 + 3 * EVENTS) / SPEED + 5
        expected = (EVENTS // 2) * STEPS
        while time.time() < end or (len(hook.arrivals) < expected and time.time() < end + 60):
            time.sleep(0.5)
        exits = [replica.stop() for replica in replicas]
        with db.connect() as conn:
            rows = list(conn.execute(sa.text("SELECT event_id, state FROM notification WHERE kind = 'escalation'")))
    finally:
        db.dispose()
        hook.close()

    copies = Counter(a.webhook_id for a in hook.arrivals)
    acked = {f"e{i:03d}" for i in range(EVENTS // 2)}
    figures.add("escalation steps sent", len(hook.arrivals))
    figures.add("distinct steps", len(copies))
    figures.add("acknowledged events' steps sent", sum(1 for i in copies if i.split(":")[1] in acked))
    assert exits == [0, 0, 0]
    assert [i for i, n in copies.items() if n > 1] == []
    assert {i.split(":")[1] for i in copies} == {f"e{i:03d}" for i in range(EVENTS // 2, EVENTS)}
    assert len(copies) == expected
    assert Counter(state for event, state in rows if event in acked) == {"cancelled": (EVENTS // 2) * STEPS}
