"""A test message's place in history, shared by ``alertd send-test`` and the dashboard's send-test button.

A test is kept as a notification of kind ``test`` (queued, taken, recorded like any delivery, so history and the
channel's last delivery show it), and a successful one clears the channel's failing mark: the channel works again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from alertd.delivery.health import ChannelHealth, clear_failing
from alertd.domain import Planned
from alertd.storage import NOTIFICATION, Outcome, enqueue, record

__all__ = ["last_test_at", "record_test"]

_N = NOTIFICATION.c


def record_test(
    conn: sa.Connection, outcome: Outcome, channel: str, *, now: datetime, worker: str, admin: str | None = None
) -> tuple[ChannelHealth, int] | None:
    """Keep the test ``outcome`` in history; for a delivered test, the channel's cleared failing mark and how many
    held notifications that released (None when the channel was not failing)."""
    enqueue(conn, [Planned(id=outcome.id, kind="test", channel=channel, due_at=now)], now=now - timedelta(seconds=1))
    conn.execute(NOTIFICATION.update().where(_N.id == outcome.id).values(state="sending", locked_by=worker, attempts=1))
    record(conn, [outcome], worker=worker)
    if outcome.state != "sent":
        return None
    mark, released = clear_failing(conn, channel, now=now, admin=admin)
    return None if mark is None else (mark, released)


def last_test_at(conn: sa.Connection, channel: str) -> datetime | None:
    """When the newest test of ``channel`` was sent (from any replica or the CLI), None when there was none."""
    query = sa.select(sa.func.max(_N.due_at)).where(_N.channel == channel, _N.kind == "test")
    found: datetime | None = conn.execute(query).scalar()
    return found
