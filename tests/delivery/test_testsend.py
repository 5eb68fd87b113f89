"""Test messages in history, as the CLI and the dashboard keep them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.delivery import last_test_at, record_test
from alertd.delivery.health import failing_channels, mark_failing
from alertd.storage import NOTIFICATION, Outcome

T0 = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
_N = NOTIFICATION.c


def _rows(engine: Engine) -> list[tuple[str, str, str, int]]:
    with engine.connect() as conn:
        query = sa.select(_N.id, _N.kind, _N.state, _N.attempts).order_by(_N.id)
        return [(r.id, r.kind, r.state, r.attempts) for r in conn.execute(query)]


def test_a_delivered_test_is_kept_as_sent_and_clears_the_channels_failing_mark(engine: Engine) -> None:
    with engine.begin() as conn:
        mark_failing(conn, "desk", "HTTP 401", now=T0 - timedelta(hours=1))
        cleared = record_test(
            conn, Outcome(id="test:desk:1", state="sent", at=T0, detail="ok"), "desk", now=T0, worker="web"
        )
        still = failing_channels(conn)
    assert cleared is not None
    assert cleared[0].reason == "HTTP 401"
    assert still == {}
    assert _rows(engine) == [("test:desk:1", "test", "sent", 1)]


def test_a_failed_test_is_kept_as_dead_and_leaves_the_mark(engine: Engine) -> None:
    with engine.begin() as conn:
        mark_failing(conn, "desk", "HTTP 401", now=T0 - timedelta(hours=1))
        outcome = Outcome(id="test:desk:2", state="dead", at=T0, detail="HTTP 401")
        assert record_test(conn, outcome, "desk", now=T0, worker="cli") is None
        assert "desk" in failing_channels(conn)
    assert _rows(engine) == [("test:desk:2", "test", "dead", 1)]


def test_the_last_test_is_the_newest_of_that_channel_only(engine: Engine) -> None:
    with engine.begin() as conn:
        assert last_test_at(conn, "desk") is None
        for i, (channel, at) in enumerate(
            [("desk", T0), ("desk", T0 + timedelta(seconds=5)), ("ops", T0 + timedelta(1))]
        ):
            record_test(conn, Outcome(id=f"test:{i}", state="sent", at=at, detail="ok"), channel, now=at, worker="web")
        assert last_test_at(conn, "desk") == T0 + timedelta(seconds=5)
