"""Channel health marks in the ``meta`` table: set once, listed, cleared with their held rows released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.delivery.health import (
    clear_failing,
    failing_channels,
    health_revision,
    is_destination_failure,
    mark_failing,
)
from alertd.domain import Planned
from alertd.errors import DeliveryError
from alertd.storage.outbox import NOTIFICATION, enqueue

T0 = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)


def test_bad_credentials_are_a_destination_failure() -> None:
    assert is_destination_failure(DeliveryError("HTTP 401", permanent=True, status=401))
    assert is_destination_failure(DeliveryError("no_service", permanent=True))


def test_a_rejected_payload_is_not_a_destination_failure() -> None:
    assert not is_destination_failure(DeliveryError("HTTP 413", permanent=True, status=413))
    assert not is_destination_failure(DeliveryError("HTTP 503", status=503))


def test_marking_keeps_the_first_reason_and_instant(engine: Engine) -> None:
    with engine.begin() as conn:
        assert mark_failing(conn, "desk", "HTTP 401 invalid_auth", now=T0)
        assert not mark_failing(conn, "desk", "HTTP 404", now=T0 + timedelta(minutes=5))
        found = failing_channels(conn)
    assert [(h.channel, h.since, h.reason) for h in found.values()] == [("desk", T0, "HTTP 401 invalid_auth")]


def test_marking_and_clearing_change_the_revision(engine: Engine) -> None:
    with engine.begin() as conn:
        first = health_revision(conn)
        mark_failing(conn, "desk", "HTTP 401", now=T0)
        marked = health_revision(conn)
        clear_failing(conn, "desk", now=T0)
        cleared = health_revision(conn)
    assert len({first, marked, cleared}) == 3


def test_clearing_releases_overdue_rows_as_held(engine: Engine) -> None:
    due = T0 + timedelta(hours=1)
    later = T0 + timedelta(days=1)
    with engine.begin() as conn:
        enqueue(
            conn,
            [
                Planned(id="r1", kind="reminder", channel="desk", due_at=due),
                Planned(id="r2", kind="reminder", channel="desk", due_at=later),
            ],
            now=T0,
        )
        mark_failing(conn, "desk", "HTTP 401", now=T0)
    released_at = T0 + timedelta(hours=3)
    with engine.begin() as conn:
        mark, released = clear_failing(conn, "desk", now=released_at)
        rows = {r.id: r for r in conn.execute(sa.select(NOTIFICATION))}
        assert failing_channels(conn) == {}
    assert mark is not None
    assert mark.reason == "HTTP 401"
    assert released == 1
    assert (rows["r1"].state, rows["r1"].next_at, rows["r1"].held_until) == ("pending", released_at, released_at)
    assert "held while channel desk was failing" in rows["r1"].last_error
    assert (rows["r2"].next_at, rows["r2"].held_until) == (later, None)


def test_clearing_a_healthy_channel_does_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        assert clear_failing(conn, "desk", now=T0) == (None, 0)
