"""The calendar feeds' part of ``/readyz``: each feed's last refresh as stored (so any replica reports every feed).

A failing feed leaves the daemon ready: its last good copy keeps being planned from. It is shown here with its
one-line error (which never quotes a feed URL past its host) and since when it fails.
"""

from __future__ import annotations

import asyncio

from alertd.api.deps import Backend
from alertd.api.schemas import FeedHealth, iso
from alertd.storage import FeedStatus, feed_statuses

__all__ = ["feed_health"]

_TIMEOUT = 3.0


def _read(daemon: Backend) -> dict[str, FeedStatus]:
    with daemon.engine.connect() as conn:
        return feed_statuses(conn)


async def feed_health(daemon: Backend) -> dict[str, FeedHealth]:
    """Every feed of the running calendar; one never fetched yet shows as not ok, without an error."""
    try:
        stored = await asyncio.wait_for(asyncio.to_thread(_read, daemon), timeout=_TIMEOUT)
    except Exception:
        # The database check of the same probe reports why; the feeds are then simply unknown.
        return {}
    found: dict[str, FeedHealth] = {}
    for source in daemon.calendar.sources:
        status = stored.get(source.id)
        if status is None or (status.fetched_at is None and status.last_error is None):
            found[source.id] = FeedHealth(ok=False, error="not fetched yet")
            continue
        found[source.id] = FeedHealth(
            ok=not status.failing,
            error=status.last_error,
            failing_since=None if status.failing_since is None else iso(status.failing_since),
            last_success=None if status.fetched_at is None else iso(status.fetched_at),
            has_copy=status.has_copy,
        )
    return found
