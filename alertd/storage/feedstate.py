"""Each iCalendar source's row in ``feed_state``: who fetches next, the last good copy and the failure, if any.

Replicas share the row: a fetch is claimed with one conditional UPDATE of ``next_at`` (the first replica past it
wins, the others find nothing to do until the next interval), and every replica can plan from the stored body.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from alertd.storage.bulk import insert_ignoring_duplicates
from alertd.storage.models import FeedState

__all__ = [
    "FEED_STATE",
    "FeedStatus",
    "Fetched",
    "claim_fetch",
    "feed_statuses",
    "forget_feeds",
    "last_body",
    "location_key",
    "record_failure",
    "record_fetched",
    "set_window_end",
]

FEED_STATE = FeedState.__table__  # type: ignore[attr-defined]
_ERROR_MAX = 500


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """What ``/readyz``, metrics and ``alertd status`` show of a feed (never its URL or body)."""

    source_id: str
    fetched_at: datetime | None
    checked_at: datetime | None
    last_error: str | None
    failing_since: datetime | None
    has_copy: bool

    @property
    def failing(self) -> bool:
        return self.last_error is not None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A claimed fetch: the validators to send (None for a feed pointed elsewhere since) and the last window end."""

    etag: str | None
    last_modified: str | None
    window_end: datetime | None
    body_sha256: str | None


def location_key(location: str) -> str:
    return hashlib.sha256(location.encode()).hexdigest()


def claim_fetch(
    conn: sa.Connection, source_id: str, location: str, *, now: datetime, every: timedelta, force: bool = False
) -> Fetched | None:
    """Take the next fetch of ``source_id`` (due, or ``force``); None when another replica holds this interval."""
    key = location_key(location)
    insert_ignoring_duplicates(conn, FEED_STATE, [{"source_id": source_id, "location": key}], key="source_id")
    c = FEED_STATE.c
    due = sa.or_(c.next_at.is_(None), c.next_at <= now, c.location != key)
    claimed = conn.execute(
        FEED_STATE.update()
        .where(c.source_id == source_id, sa.true() if force else due)
        .values(next_at=now + every, checked_at=now)
    ).rowcount
    if not claimed:
        return None
    row = conn.execute(
        sa.select(c.location, c.etag, c.last_modified, c.window_end, c.body_sha256).where(c.source_id == source_id)
    ).one()
    moved = row.location != key
    return Fetched(
        etag=None if moved else row.etag,
        last_modified=None if moved else row.last_modified,
        window_end=row.window_end,
        body_sha256=row.body_sha256,
    )


def record_fetched(
    conn: sa.Connection,
    source_id: str,
    location: str,
    *,
    now: datetime,
    body: bytes | None,
    etag: str | None,
    last_modified: str | None,
    window_end: datetime | None,
) -> None:
    """A good answer: a new body (``body``), or the stored one confirmed (``body=None``, a 304 or the same bytes)."""
    values: dict[str, object] = {
        "location": location_key(location),
        "fetched_at": now,
        "last_error": None,
        "failing_since": None,
    }
    if window_end is not None:
        values["window_end"] = window_end
    if body is not None:
        values |= {"body": body, "body_sha256": hashlib.sha256(body).hexdigest()}
    if etag is not None or body is not None:
        values |= {"etag": etag, "last_modified": last_modified}
    conn.execute(FEED_STATE.update().where(FEED_STATE.c.source_id == source_id).values(**values))


def record_failure(conn: sa.Connection, source_id: str, error: str, *, now: datetime) -> None:
    """A failed fetch or read: the stored copy stays; ``failing_since`` keeps the first failure of the run."""
    c = FEED_STATE.c
    conn.execute(
        FEED_STATE.update()
        .where(c.source_id == source_id)
        .values(last_error=error[:_ERROR_MAX], failing_since=sa.func.coalesce(c.failing_since, now))
    )


def set_window_end(conn: sa.Connection, source_id: str, end: datetime) -> None:
    """The planning window's end after a re-read of the stored copy (occurrences up to it are known)."""
    conn.execute(FEED_STATE.update().where(FEED_STATE.c.source_id == source_id).values(window_end=end))


def last_body(conn: sa.Connection, source_id: str) -> tuple[bytes | None, datetime | None]:
    """The last good copy of a feed and the window end it was last applied with."""
    row = conn.execute(
        sa.select(FEED_STATE.c.body, FEED_STATE.c.window_end).where(FEED_STATE.c.source_id == source_id)
    ).one_or_none()
    return (None, None) if row is None else (row.body, row.window_end)


def feed_statuses(conn: sa.Connection) -> dict[str, FeedStatus]:
    c = FEED_STATE.c
    query = sa.select(
        c.source_id, c.fetched_at, c.checked_at, c.last_error, c.failing_since, c.body_sha256.is_not(None).label("has")
    )
    return {
        row.source_id: FeedStatus(
            row.source_id, row.fetched_at, row.checked_at, row.last_error, row.failing_since, row.has
        )
        for row in conn.execute(query)
    }


def forget_feeds(conn: sa.Connection, keep: set[str]) -> list[str]:
    """Delete the rows of sources no longer in the calendar; their ids."""
    gone = [r for r in conn.execute(sa.select(FEED_STATE.c.source_id)).scalars() if r not in keep]
    if gone:
        conn.execute(FEED_STATE.delete().where(FEED_STATE.c.source_id.in_(gone)))
    return gone
