"""Replicas on PostgreSQL: NOTIFY wake-ups with a catch-up after reconnects, and serialized calendar syncs."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from support.factories import make_calendar, make_channel, make_event, offsets

from alertd.delivery.health import failing_channels, mark_failing
from alertd.delivery.wakeup import DueListener, parse_due
from alertd.storage.db import create_engine
from alertd.storage.outbox import NOTIFICATION, notify_due
from alertd.storage.sync import SyncReport, sync_calendar

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def pg(pg_migrated_url: str) -> Iterator[Engine]:
    """The session's scratch PostgreSQL database, emptied after the test."""
    eng = create_engine(pg_migrated_url)
    yield eng
    with eng.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    eng.dispose()


class _Heard:
    """What a listener reported, for the test thread to wait on."""

    def __init__(self) -> None:
        self.due: queue.Queue[datetime | None] = queue.Queue()
        self.connects: queue.Queue[int] = queue.Queue()

    def listener(self, engine: Engine) -> DueListener:
        counter = iter(range(1, 1000))
        return DueListener(engine.url, on_due=self.due.put, on_connect=lambda: self.connects.put(next(counter)))


def test_notify_reaches_listeners_only_when_the_transaction_commits(pg: Engine) -> None:
    """A rolled-back NOTIFY is never heard; a committed one arrives with its due instant."""
    heard = _Heard()
    listener = heard.listener(pg)
    listener.start()
    try:
        assert heard.connects.get(timeout=10) == 1
        with pg.connect() as conn, conn.begin() as tx:
            notify_due(conn, NOW)
            tx.rollback()
        with pg.begin() as conn:
            notify_due(conn, NOW + timedelta(minutes=5))
        assert heard.due.get(timeout=10) == NOW + timedelta(minutes=5)
        assert heard.due.empty()
    finally:
        listener.stop()


def test_listener_reconnects_and_asks_for_a_catch_up_after_losing_its_connection(pg: Engine) -> None:
    """A killed listening session is replaced, and ``on_connect`` runs again so missed wake-ups are caught up."""
    heard = _Heard()
    listener = heard.listener(pg)
    listener.start()
    try:
        assert heard.connects.get(timeout=10) == 1
        with pg.begin() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN alertd_due%' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        assert killed >= 1
        assert heard.connects.get(timeout=15) == 2
        with pg.begin() as conn:
            notify_due(conn, NOW)
        assert heard.due.get(timeout=10) == NOW
    finally:
        listener.stop()


def test_notify_is_a_no_op_on_sqlite() -> None:
    """SQLite has one daemon per file: nothing to tell, and no error."""
    eng = sa.create_engine("sqlite://")
    with eng.begin() as conn:
        notify_due(conn, NOW)
    eng.dispose()


def test_unreadable_payload_means_due_now() -> None:
    """A payload that is not an instant wakes the dispatcher rather than being ignored."""
    assert parse_due("not a time") is None
    assert parse_due("2025-10-20T12:00:00+00:00") == NOW


def test_replicas_syncing_one_calendar_at_once_plan_it_once(pg: Engine) -> None:
    """Two replicas applying the same calendar together: no error, and the rows are queued by exactly one."""
    hooks = make_channel(id="hooks")
    events = [make_event(f"e{i}", reminders=offsets("1d"), notify=("hooks",)) for i in range(200)]
    cal = make_calendar(events, channels=(hooks,))
    start = threading.Barrier(2)
    reports: list[SyncReport] = []
    errors: list[BaseException] = []

    def replica() -> None:
        start.wait()
        try:
            with pg.begin() as conn:
                reports.append(sync_calendar(conn, cal, now=NOW))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(len(r.added) for r in reports) == [0, 200]
    assert sorted(r.queued for r in reports) == [0, 200]
    with pg.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(NOTIFICATION)).scalar_one() == 200


def test_replicas_marking_one_channel_failing_at_once_both_commit(pg: Engine) -> None:
    """The second replica's mark waits for the first and is ignored: no failed transaction, one mark."""
    results: list[bool] = []
    errors: list[BaseException] = []
    with pg.connect() as first, first.begin():
        assert mark_failing(first, "hooks", "HTTP 404", now=NOW)

        def second() -> None:
            try:
                with pg.begin() as conn:
                    results.append(mark_failing(conn, "hooks", "HTTP 410", now=NOW))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)  # blocked on the first replica's uncommitted row
    thread.join(10)
    assert errors == []
    assert results == [False]
    with pg.connect() as conn:
        assert [h.reason for h in failing_channels(conn).values()] == ["HTTP 404"]
