"""Three replicas on one PostgreSQL database, one of them killed with SIGKILL every few seconds: nothing is lost.

Duplicates are allowed only for sends in flight at a kill: rows the killed process had claimed but not yet
recorded. Right after each kill (before any lease can expire) the test reads those rows from the database, so
every duplicate the receiver sees must be one of them, and every copy must carry the notification's stable id.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from e2e.harness import Harness

from reliability.conftest import Figures
from reliability.tools import READY, FlakyEndpoint, Replicas

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(300)]

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
SPEED = 10.0  # slow enough that a loaded CI machine does not turn start-up time into lateness
EVENTS = 1000  # one reminder to each of two channels: 2,000 notifications
KILL_EVERY = 5.0  # real seconds; a replica restarting on a loaded 2-core machine takes several
ENV = {
    # A short lease so a dead replica's rows come back within seconds (reclaim runs every lease/4).
    "ALERTD_LEASE": "5",
    # Small claims bound how many sends a kill can leave in flight.
    "ALERTD_BATCH_SIZE": "20",
}


def _calendar() -> str:
    # Two events a second from T0+63m, each reminding two channels an hour before: due from T0+3m to T0+11m20s,
    # i.e. from 18 s to 68 s of real time. The first due instant leaves the replicas time to start on a busy
    # machine; the hour of lead keeps any reminder from expiring (a reminder is dropped at its event's start)
    # however long a restart takes, so "lost" can only mean lost.
    lines = ["version: 1", "timezone: UTC", "channels:"]
    lines += [f'  hook_{c}: {{type: webhook, url: "${{HOOK_URL}}/{c}"}}' for c in "ab"]
    lines.append("events:")
    for i in range(EVENTS):
        at = T0 + timedelta(minutes=63, seconds=i // 2)
        lines += [
            f"  - id: e{i:04d}",
            f"    title: Deadline {i}",
            f"    at: {at:%Y-%m-%dT%H:%M:%S}",
            "    reminders: [60m]",
            "    notify: [hook_a, hook_b]",
        ]
    return "\n".join(lines) + "\n"


def _in_flight(db: sa.Engine, pid: int) -> set[str]:
    """Rows the (dead) process ``pid`` had claimed and not recorded: the only ones it may have sent unrecorded."""
    with db.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id FROM notification WHERE state = 'sending' AND locked_by LIKE :me"), {"me": f"%:{pid}"}
        )
        return {r.id for r in rows}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.2f} / {values[int(len(values) * 0.99) - 1]:.2f} / {values[-1]:.2f}"


def _states(db: sa.Engine) -> Counter[str]:
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT state, count(*) AS n FROM notification GROUP BY state"))
        return Counter({r.state: r.n for r in rows})


def test_three_replicas_with_kills_lose_nothing_and_repeat_only_sends_in_flight(
    rel: Harness, fresh_pg: str, figures: Figures
) -> None:
    """2,000 notifications, 3 replicas, SIGKILL every 5 s: all delivered, duplicates only from in-flight sends."""
    hook = FlakyEndpoint()
    hook.answer(200)
    db = sa.create_engine(fresh_pg)
    try:
        rel.db_url = fresh_pg
        env = {**ENV, "HOOK_URL": hook.url("/hooks/s3cr3t")}
        fleet = Replicas(rel, rel.calendar(_calendar()), env, T0, SPEED)
        wall0 = fleet.wall0
        replicas = fleet.start_together(3)
        end_of_window = wall0 + (11 * 60 + 20) / SPEED
        in_flight: set[str] = set()
        kills = 0
        while time.time() < end_of_window:
            time.sleep(KILL_EVERY)
            victim = kills % len(replicas)
            dead = replicas[victim]
            dead.kill()
            kills += 1
            in_flight |= _in_flight(db, dead.pid)
            replicas[victim] = fleet.start()

        deadline = time.time() + 60
        while _states(db)["sent"] < 2 * EVENTS and time.time() < deadline:
            time.sleep(0.5)
        for replica in replicas:
            # A replica restarted by the last kill may still be starting; SIGTERM before its handlers exist kills it.
            replica.wait_for_log(READY, timeout=60)
        exits = [replica.stop() for replica in replicas]
        states = _states(db)
        with db.connect() as conn:
            planned = {r.id: r.due_at for r in conn.execute(sa.text("SELECT id, due_at FROM notification"))}
            workers = conn.execute(sa.text("SELECT count(DISTINCT worker) FROM attempt")).scalar_one()
    finally:
        db.dispose()
        hook.close()

    arrivals = list(hook.arrivals)
    copies = Counter(a.webhook_id for a in arrivals)
    duplicates = {i: n - 1 for i, n in copies.items() if n > 1}
    lost = sorted(set(planned) - set(copies))
    first: dict[str, float] = {}
    for a in arrivals:
        first.setdefault(a.webhook_id, a.at)
    # Lateness against the shared schedule: includes each replica's start-up skew (its replay clock starts after
    # its imports, seconds on a loaded machine) and the time with every replica down or restarting.
    late = sorted(
        first[i] - (wall0 + (due.replace(tzinfo=UTC) - T0).total_seconds() / SPEED)
        for i, due in planned.items()
        if i in first
    )
    # Lateness by the sending replica's own clock (payload sent_at minus due_at): what a receiver would see.
    own = sorted(
        (_instant(a.body["sent_at"]) - _instant(a.body["due_at"])).total_seconds() / SPEED
        for a in arrivals
        if first.get(a.webhook_id) == a.at
    )
    figures.add("notifications planned", len(planned))
    figures.add("replicas", 3)
    figures.add("kills (SIGKILL)", kills)
    figures.add("workers that sent (incl. restarts)", workers)
    figures.add("requests received", len(arrivals))
    figures.add("distinct ids received", len(copies))
    figures.add("lost", len(lost))
    figures.add("duplicates", sum(duplicates.values()))
    figures.add("in flight at a kill", len(in_flight))
    figures.add("lateness vs schedule p50 / p99 / max (real s)", _spread(late))
    figures.add("lateness by sender clock p50 / p99 / max (real s)", _spread(own))
    figures.add("final states", dict(states))

    assert exits == [0, 0, 0], "a replica did not stop cleanly on SIGTERM"
    assert len(planned) == 2 * EVENTS
    assert lost == []
    assert set(duplicates) <= in_flight, f"duplicates not in flight at a kill: {set(duplicates) - in_flight}"
    assert all(a.webhook_id == a.body["id"] for a in arrivals), "a copy carried a different id"
    assert states == {"sent": 2 * EVENTS}
    assert kills >= 5
