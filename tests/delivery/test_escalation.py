"""Escalation steps through the running daemon to a webhook on 127.0.0.1: sent at their instant unless acknowledged
before it, exactly once across three replicas on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel
from support.receiver import Receiver
from support.waiting import clear_alertd_environ, until

from alertd.clock import Clock, FixedClock, ReplayClock, wall_now
from alertd.daemon import Daemon
from alertd.settings import Settings
from alertd.storage import ack_event
from alertd.storage.db import create_engine
from alertd.storage.outbox import NOTIFICATION

T0 = datetime(2025, 10, 30, 11, 0, tzinfo=UTC)


def calendar(
    url: str, *, at: str = "2025-10-30T11:05", step: str = "{at: 3m, unless: acknowledged, notify: [pager]}"
) -> str:
    # No reminders or digests: every request the receiver sees is an escalation step (or an ack notice).
    return textwrap.dedent(f"""\
        version: 1
        timezone: UTC
        defaults: {{reminders: [], countdown: false, notify: [desk]}}
        channels:
          desk: {{type: console}}
          pager: {{type: webhook, url: "{url}"}}
        events:
          - id: filing
            title: Filing deadline
            at: {at}
            escalate: [{step}]
        """)


Starter = Callable[..., Awaitable[Daemon]]


@pytest.fixture
async def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Starter]:
    clear_alertd_environ(monkeypatch)
    started: list[Daemon] = []

    async def run(text: str, clock: Clock, *, db_url: str | None = None, worker: str | None = None) -> Daemon:
        folder = tmp_path / f"d{len(started)}"
        folder.mkdir()
        (folder / "calendar.yaml").write_text(text, encoding="utf-8")
        daemon = Daemon(
            Settings(_env_file=None, max_sleep=30.0, reload_interval=3600.0, drain_timeout=1.0),
            clock=clock,
            calendar_path=folder / "calendar.yaml",
            db_url=db_url or f"sqlite:///{folder / 'alertd.db'}",
            out=io.StringIO(),
        )
        if worker is not None:
            daemon.worker = worker
        await daemon.start()
        started.append(daemon)
        task = asyncio.create_task(daemon.run())
        daemon_tasks.append(task)
        return daemon

    daemon_tasks: list[asyncio.Task[Any]] = []
    yield run
    for daemon in started:
        daemon.request_stop()
    await asyncio.gather(*daemon_tasks, return_exceptions=True)


def escalations(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.requests if r.json().get("kind") == "escalation"]


def states(daemon: Daemon) -> Counter[str]:
    with daemon.engine.begin() as conn:
        query = sa.select(NOTIFICATION.c.state).where(NOTIFICATION.c.kind == "escalation")
        return Counter(conn.execute(query).scalars())


async def test_an_unacknowledged_step_fires_at_its_instant_on_the_replay_clock(
    start: Starter, receiver: Receiver
) -> None:
    """3m before an 11:05 start: the webhook gets the escalation at 11:02 virtual time, not before, not late."""
    # 30x: the step is 4 real seconds away, room for a start-up on a busy machine (a step already past when the
    # calendar is first loaded is not planned).
    clock = ReplayClock(T0, speed=30)
    await start(calendar(receiver.url()), clock)

    await until(lambda: bool(escalations(receiver)))

    body = escalations(receiver)[0]
    assert body["id"] == "esc:filing:0:pager:20251030T110200Z"
    assert body["due_at"] == "2025-10-30T11:02:00Z"
    sent = datetime.fromisoformat(body["sent_at"].replace("Z", "+00:00"))
    assert timedelta(0) <= sent - datetime(2025, 10, 30, 11, 2, tzinfo=UTC) < timedelta(seconds=30)
    assert body["late"] is False
    assert "nobody has acknowledged it yet" in body["text"]


async def wake_at(daemon: Daemon, clock: FixedClock, instant: datetime) -> None:
    await until(lambda: daemon.scheduler.get_job("wake") is not None)
    clock.set(instant)
    job = daemon.scheduler.get_job("wake")
    assert job is not None
    job.modify(next_run_time=wall_now())


async def test_a_step_acknowledged_one_second_before_its_instant_is_not_sent(
    start: Starter, receiver: Receiver
) -> None:
    """Ack at 11:01:59, step due 11:02:00: nothing reaches the pager, and the row says why."""
    due = datetime(2025, 10, 30, 11, 2, tzinfo=UTC)
    clock = FixedClock(T0)
    daemon = await start(calendar(receiver.url()), clock)
    clock.set(due - timedelta(seconds=1))
    ack_event(daemon.engine, daemon.calendar, event_id="filing", by="ana", via="api", now=clock.now())

    await wake_at(daemon, clock, due)
    await until(lambda: daemon.scheduler.get_job("wake") is not None)
    await asyncio.sleep(0.5)

    assert escalations(receiver) == []
    assert states(daemon) == {"cancelled": 1}


async def test_a_step_the_claim_cancels_counts_as_a_cancelled_outcome(start: Starter, receiver: Receiver) -> None:
    """An ack that raced the plan (the step still pending at its instant) is caught inside the claim; the metric
    counts that cancellation like any other outcome."""
    due = datetime(2025, 10, 30, 11, 2, tzinfo=UTC)
    clock = FixedClock(T0)
    daemon = await start(calendar(receiver.url()), clock)
    clock.set(due - timedelta(seconds=1))
    ack_event(daemon.engine, daemon.calendar, event_id="filing", by="ana", via="api", now=clock.now())
    with daemon.engine.begin() as conn:
        n = NOTIFICATION.c
        conn.execute(NOTIFICATION.update().where(n.kind == "escalation").values(state="pending", last_error=None))
    outcomes = daemon.metrics.outcomes.labels("escalation", "pager", "cancelled")
    before = outcomes._value.get()

    await wake_at(daemon, clock, due)
    await until(lambda: states(daemon) == {"cancelled": 1})
    await until(lambda: outcomes._value.get() == before + 1)

    assert escalations(receiver) == []


async def test_the_same_step_unacknowledged_is_sent_when_woken_the_same_way(start: Starter, receiver: Receiver) -> None:
    """The control for the test above: the same wake at the same instant does send it."""
    clock = FixedClock(T0)
    daemon = await start(calendar(receiver.url()), clock)

    await wake_at(daemon, clock, datetime(2025, 10, 30, 11, 2, tzinfo=UTC))
    await until(lambda: bool(escalations(receiver)))

    # Outcomes are stored in batches, a moment after the send.
    await until(lambda: states(daemon) == {"sent": 1})


@pytest.fixture
def pg(pg_migrated_url: str) -> Iterator[str]:
    yield pg_migrated_url
    engine = create_engine(pg_migrated_url)
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


async def test_three_replicas_on_postgresql_send_each_step_exactly_once(
    start: Starter, receiver: Receiver, pg: str
) -> None:
    """A repeating step (11:07, 11:08, 11:09, stopping at the 11:10 start) through three replicas sharing one
    PostgreSQL database: three requests, three distinct ids, one attempt each."""
    step = "{at: 3m, unless: acknowledged, notify: [pager], repeat: 1m}"
    text = calendar(receiver.url(), at="2025-10-30T11:10", step=step)
    # One virtual time for all three, 7 real seconds before the first step.
    clocks = [ReplayClock(T0, speed=60) for _ in range(3)]
    replicas = [await start(text, clock, db_url=pg, worker=f"r{i}") for i, clock in enumerate(clocks)]

    await until(lambda: len(escalations(receiver)) >= 3, timeout=20)
    await asyncio.sleep(1.0)  # room for any duplicate to arrive

    ids = [body["id"] for body in escalations(receiver)]
    assert sorted(ids) == [
        "esc:filing:0:pager:20251030T110700Z",
        "esc:filing:0:pager:20251030T110800Z",
        "esc:filing:0:pager:20251030T110900Z",
    ]
    await until(lambda: states(replicas[0]) == {"sent": 3})
