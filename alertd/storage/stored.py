"""The stored side of a calendar sync's comparison: which events the database holds, read as narrowly as possible.

A sync of a 100k-event calendar that changed one event must not pay for 100k rows: the live file events are read
as (id, fingerprint) pairs straight through the driver (SQLAlchemy's Row objects cost more than the comparison
they feed), the few other rows (removed, feed-owned, database-owned with a draft) with the columns deciding their
fate, and the rows of absent events only once they are known. Database-owned events without a draft (the API's,
possibly hundreds of thousands) are looked up only by the ids a calendar event takes (:func:`add_db_owned`).

Better still, not at all: a process that syncs keeps what its last sync left (:class:`StoredCache`) under the
token in the meta table: a random value every sync that changes event rows writes in its own transaction (one
that changes none leaves it). The next sync reads the token back: the same value means that transaction
committed and nothing has written the event table since (every other writer clears the token:
:func:`forget_stored`; a rolled-back sync leaves the token before it), so the kept maps are the table's. Any other
value (another replica's or a CLI command's changes, a migration, a rollback) means reading it afresh.
"""

from __future__ import annotations

import secrets
from collections.abc import Container, Iterable
from dataclasses import dataclass
from itertools import filterfalse
from typing import Any, NamedTuple

import sqlalchemy as sa

from alertd.planning import SERIES_MARK
from alertd.storage.bulk import driver_execute, driver_sql
from alertd.storage.eventrows import EVENT
from alertd.storage.models import Meta

__all__ = [
    "Other",
    "Stored",
    "StoredCache",
    "absent_rows",
    "add_db_owned",
    "forget_stored",
    "keep_stored",
    "read_stored",
]

META = Meta.__table__  # type: ignore[attr-defined]
# The meta key of the token naming the last sync that wrote the event table through a cache's owner.
TOKEN = "stored_token"


class Other(NamedTuple):
    """A stored event that is not a live file event: owned by the database or a feed, or removed."""

    owner: str
    removed: bool
    drafted: bool


@dataclass(slots=True)
class Stored:
    """``live``: the fingerprint of each live file event by id; ``other``: every other row by id, except
    database-owned events without a draft that no calendar event collides with (see :func:`add_db_owned`).

    A sync reports its writes through the methods, so that the maps stay the table's (``also``: a whole table's
    maps that an occurrences-only view was cut from, kept up to date with it; ``token``: the meta table's token
    when they were read; ``writes``: how many rows the sync changed since).
    """

    live: dict[str, str]
    other: dict[str, Other]
    complete: bool = True
    also: Stored | None = None
    token: str | None = None
    writes: int = 0

    def wrote(self, event_id: str, fingerprint: str) -> None:
        """A live file event was stored (inserted, changed, or back after removal)."""
        self.writes += 1
        self.live[event_id] = fingerprint
        self.other.pop(event_id, None)
        if self.also is not None:
            self.also.wrote(event_id, fingerprint)

    def removed(self, event_id: str) -> None:
        """A file event was marked removed."""
        self.writes += 1
        self.live.pop(event_id, None)
        self.other[event_id] = Other("file", True, False)
        if self.also is not None:
            self.also.removed(event_id)

    def deleted(self, event_id: str) -> None:
        """A row was deleted."""
        self.writes += 1
        self.live.pop(event_id, None)
        self.other.pop(event_id, None)
        if self.also is not None:
            self.also.deleted(event_id)


class StoredCache:
    """What this process's last sync left in the event table, valid while the meta table holds its token.

    Held by whoever syncs one database again and again (the daemon); ``reads`` counts the syncs that had to read
    the whole table. A token is 128 random bits, so a cache handed another database never matches it.
    """

    def __init__(self) -> None:
        self._token: str | None = None
        self._stored: Stored | None = None
        self.reads = 0

    def _take(self, token: str | None) -> Stored | None:
        """The kept maps if ``token`` is this cache's; either way the cache is empty until the sync keeps again
        (a sync that fails half way must not leave half-updated maps behind)."""
        found = self._stored if token is not None and token == self._token else None
        self._token, self._stored = None, None
        return found

    def _keep(self, token: str, stored: Stored) -> None:
        self._token, self._stored = token, stored


def _token(conn: sa.Connection) -> str | None:
    value: str | None = conn.execute(sa.select(META.c.value).where(META.c.key == TOKEN)).scalar()
    return value


def read_stored(conn: sa.Connection, *, occurrences_only: bool, cache: StoredCache | None = None) -> Stored:
    """The event table as a sync compares it (only occurrences of recurring events with ``occurrences_only``),
    from ``cache`` when it is still the table's."""
    token = _token(conn)
    held = cache._take(token) if cache is not None else None
    if held is not None and not occurrences_only:
        held.token, held.writes = token, 0
        return held
    stored = _read(conn, occurrences_only=occurrences_only)
    if cache is not None and not occurrences_only:
        cache.reads += 1
    # A window move reads only occurrences; the whole table's maps it keeps follow its writes.
    stored.also, stored.token = held, token
    return stored


def keep_stored(conn: sa.Connection, stored: Stored, cache: StoredCache | None) -> None:
    """End of a sync, inside its transaction: ``cache`` (if any) keeps the maps ``stored`` now holds (a window
    move's: the whole table's it kept up to date) under the meta table's token. A sync that changed rows writes a
    new token, so every other process's kept maps lapse; one that changed none leaves the token (the maps read
    under it are still the table's)."""
    token = stored.token
    if stored.writes or token is None:
        token = secrets.token_hex(16)
        if conn.execute(META.update().where(META.c.key == TOKEN).values(value=token)).rowcount == 0:
            conn.execute(META.insert().values(key=TOKEN, value=token))
    full = stored if stored.complete else stored.also
    if cache is not None and full is not None:
        full.also = None
        cache._keep(token, full)


def forget_stored(conn: sa.Connection) -> None:
    """Inside a transaction that wrote event rows other than through a file sync (a database-owned event, a feed,
    a migration): no process's kept maps hold for the table any longer."""
    conn.execute(META.delete().where(META.c.key == TOKEN))


def _read(conn: sa.Connection, *, occurrences_only: bool) -> Stored:
    table = conn.dialect.identifier_preparer.quote(EVENT.name)
    columns = "id, fingerprint, owner, removed, draft IS NOT NULL"
    if occurrences_only:
        # A few hundred rows, but finding them scans the table: once, then split here.
        sql = f"SELECT {columns} FROM {table} WHERE id LIKE ?"
        rows = driver_execute(conn, driver_sql(conn, sql), (f"%{SERIES_MARK}%",), rows=True)[1]
        stored = Stored(live={}, other={}, complete=False)
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


def absent_rows(conn: sa.Connection, stored: Stored, wanted: Container[str], live_kept: bool = False) -> list[Any]:
    """The stored file events a calendar of the ``wanted`` ids no longer has, each with its id, ``starts_at``,
    ``revision`` and ``removed``, in id order. ``live_kept``: the caller knows the calendar still has every live
    one, and ``wanted`` need only answer for the other rows."""
    missing = set() if live_kept else set(filterfalse(wanted.__contains__, stored.live))
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
