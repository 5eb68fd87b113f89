"""The stored side of a calendar sync's comparison: which events the database holds, read as narrowly as possible.

A sync of a 100k-event calendar that changed one event must not pay for 100k rows: the live file events are read
as (id, fingerprint) pairs straight through the driver (SQLAlchemy's Row objects cost more than the comparison
they feed), the few other rows (removed, feed-owned, database-owned with a draft) with the columns deciding their
fate, and the rows of absent events only once they are known. Database-owned events without a draft (the API's,
possibly hundreds of thousands) are looked up only by the ids a calendar event takes (:func:`add_db_owned`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from alertd.planning import SERIES_MARK
from alertd.storage.bulk import driver_execute, driver_sql
from alertd.storage.eventrows import EVENT

__all__ = ["Other", "Stored", "absent_rows", "add_db_owned", "read_stored"]


class Other(NamedTuple):
    """A stored event that is not a live file event: owned by the database or a feed, or removed."""

    owner: str
    removed: bool
    drafted: bool


@dataclass(slots=True)
class Stored:
    """``live``: the fingerprint of each live file event by id; ``other``: every other row by id, except
    database-owned events without a draft that no calendar event collides with (see :func:`add_db_owned`)."""

    live: dict[str, str]
    other: dict[str, Other]


def read_stored(conn: sa.Connection, *, occurrences_only: bool) -> Stored:
    """The event table as a sync compares it (only occurrences of recurring events with ``occurrences_only``)."""
    table = conn.dialect.identifier_preparer.quote(EVENT.name)
    columns = "id, fingerprint, owner, removed, draft IS NOT NULL"
    if occurrences_only:
        # A few hundred rows, but finding them scans the table: once, then split here.
        sql = f"SELECT {columns} FROM {table} WHERE id LIKE ?"
        rows = driver_execute(conn, driver_sql(conn, sql), (f"%{SERIES_MARK}%",), rows=True)[1]
        stored = Stored(live={}, other={})
        for event_id, fingerprint, owner, removed, drafted in rows:
            if owner == "file" and not removed:
                stored.live[event_id] = fingerprint
            else:
                stored.other[event_id] = Other(owner, bool(removed), bool(drafted))
        return stored
    live_sql = f"SELECT id, fingerprint FROM {table} WHERE owner = ? AND removed = ?"
    live = driver_execute(conn, driver_sql(conn, live_sql), ("file", False), rows=True)[1]
    # Database-owned events without a draft cannot change with the calendar: they matter only where a calendar
    # event takes their id. Read whole, the 250k of a 1M-row outbox cost a daemon's start ~70 MB of Python objects.
    other_sql = (
        f"SELECT id, owner, removed, draft IS NOT NULL FROM {table} "
        "WHERE NOT (owner = ? AND removed = ?) AND NOT (owner = ? AND draft IS NULL)"
    )
    others = driver_execute(conn, driver_sql(conn, other_sql), ("file", False, "db"), rows=True)[1]
    return Stored(
        live=dict(live),
        other={event_id: Other(owner, bool(removed), bool(drafted)) for event_id, owner, removed, drafted in others},
    )


def add_db_owned(conn: sa.Connection, stored: Stored, ids: Iterable[str]) -> None:
    """Add to ``stored.other`` the rows :func:`read_stored` left out (database-owned, no draft) among ``ids``."""
    wanted = sorted(i for i in ids if i not in stored.live and i not in stored.other)
    c = EVENT.c
    for start in range(0, len(wanted), 500):
        query = sa.select(c.id, c.owner, c.removed, c.draft.is_not(None)).where(c.id.in_(wanted[start : start + 500]))
        for event_id, owner, removed, drafted in conn.execute(query):
            stored.other[event_id] = Other(owner, bool(removed), bool(drafted))


def absent_rows(conn: sa.Connection, stored: Stored, wanted: Mapping[str, str]) -> list[Any]:
    """The stored file events a calendar of ``wanted`` (id → fingerprint) no longer has, each with its id,
    ``starts_at``, ``revision`` and ``removed``, in id order."""
    missing = stored.live.keys() - wanted.keys()
    missing.update(i for i, row in stored.other.items() if row.owner == "file" and i not in wanted)
    # A removed one-off event stays removed: only occurrences may still leave the window, so only they are read.
    ids = sorted(i for i in missing if i in stored.live or SERIES_MARK in i)
    c = EVENT.c
    found: list[Any] = []
    for start in range(0, len(ids), 500):
        query = sa.select(c.id, c.starts_at, c.revision, c.removed).where(c.id.in_(ids[start : start + 500]))
        found.extend(conn.execute(query).all())
    # In id order on every backend, so removal notices and rename matches come out the same way everywhere.
    found.sort(key=lambda row: str(row.id))
    return found
