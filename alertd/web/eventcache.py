"""The board's events, kept between renders and read again only where the shared database says they changed.

Each render reads every event's (id, revision, fingerprint, acknowledged), a narrow indexed read, and loads in full
only the events whose mark differs from the kept copy: after a delivery, none. Every write path moves an event's
revision, the fingerprint digests its content, and an acknowledgement flips its flag without either, so a kept copy
is never older than the database, on any replica.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from alertd.domain import EventSpec
from alertd.storage import EVENT, load_events

__all__ = ["EventCache"]

_E = EVENT.c


class EventCache:
    """The events of one database; safe to use from several reader threads at once."""

    def __init__(self) -> None:
        self._events: dict[str, tuple[tuple[int, str, bool], EventSpec]] = {}
        self._lock = threading.Lock()

    def events(self, engine: sa.Engine) -> list[EventSpec]:
        """Every event that is not removed, by start time (as :func:`alertd.storage.list_events`)."""
        # One transaction: the marks and the rows loaded for them are the same snapshot.
        with engine.begin() as conn:
            marks = {
                row.id: (row.revision, row.fingerprint, bool(row.acknowledged))
                for row in conn.execute(
                    sa.select(_E.id, _E.revision, _E.fingerprint, _E.acknowledged).where(_E.removed.is_(False))
                )
            }
            with self._lock:
                kept = dict(self._events)
            stale = [i for i, mark in marks.items() if i not in kept or kept[i][0] != mark]
            fresh = load_events(conn, stale) if stale else {}
        current = {i: (marks[i], fresh[i]) if i in fresh else kept[i] for i in marks if i in fresh or i in kept}
        with self._lock:
            self._events = current
        return sorted((spec for _, spec in current.values()), key=lambda e: (e.starts_at, e.id))
