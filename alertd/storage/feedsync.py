"""Bring one feed's events (``owner="feed"``, ids ``<source>:…``) in line with what the feed says now.

The same machinery as a calendar-file edit (:mod:`alertd.storage.sync`): reminders re-planned per event, change
notices from :func:`alertd.planning.plan_changes`, countdown digests refreshed. What is particular to feeds:

- The first sync of a source announces nothing (a subscribed calendar's every event is not news).
- Only occurrences inside the window read (``now - LOOKBACK`` … ``window_end``) can be "gone": older ones are
  history and stay as stored; one that appears past the previous window's end is the window rolling forward, not
  an addition, and is planned without a notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from alertd.calendar import LOOKBACK, source_of
from alertd.domain import Calendar, EventSpec
from alertd.errors import FeedError
from alertd.planning import event_fingerprint, plan_changes, plan_reminders
from alertd.storage.eventrows import EVENT, event_from_row, event_values
from alertd.storage.outbox import NOTIFICATION, cancel
from alertd.storage.pglocks import PLANNING, lock_for_transaction
from alertd.storage.stored import forget_stored
from alertd.storage.sync import PlanBatch, SyncReport, bump_events_revision, replan, sync_countdowns

__all__ = ["EMPTIED", "drop_feed_events", "sync_feed"]

# As in a file sync: "added" notices come a second after "removed" ones, so they read in that order.
_AFTER_REMOVALS = timedelta(seconds=1)
# A feed that comes back empty while this many of its upcoming events are stored is taken for a glitch (a sign-in
# page that parses, a calendar whose sharing was turned off), not as that many cancellations.
EMPTIED = 10
_CHUNK = 5000


def sync_feed(
    conn: sa.Connection,
    calendar: Calendar,
    source_id: str,
    events: Iterable[EventSpec],
    *,
    now: datetime,
    window_end: datetime,
    previous_end: datetime | None,
) -> SyncReport:
    """Apply one feed's events inside the caller's transaction; ``previous_end`` is the last sync's window end."""
    lock_for_transaction(conn, PLANNING)
    report = SyncReport()
    batch = PlanBatch(conn, now, report)
    e = EVENT.c
    known = {
        row.id: row
        for row in conn.execute(
            sa.select(e.id, e.fingerprint, e.revision, e.owner, e.removed, e.starts_at).where(
                e.id.like(f"{source_id}:%")
            )
        )
    }
    quiet = not any(row.owner == "feed" for row in known.values())
    new_rows: list[dict[str, object]] = []
    appeared: list[tuple[EventSpec, int]] = []
    seen: set[str] = set()
    for event in events:
        seen.add(event.id)
        row = known.get(event.id)
        if row is None:
            new_rows.append(event_values(event, revision=1, now=now))
            batch.add(list(plan_reminders(event, event.notify)))
            if previous_end is None or event.starts_at <= previous_end:
                appeared.append((event, 1))
            report.added.append(event.id)
            continue
        if row.owner != "feed":
            report.skipped.append(event.id)
            continue
        if not row.removed and row.fingerprint == event_fingerprint(event):
            continue
        before = None if row.removed else event_from_row(conn.execute(sa.select(EVENT).where(e.id == event.id)).one())
        revision = row.revision + 1
        conn.execute(EVENT.update().where(e.id == event.id).values(**event_values(event, revision=revision, now=now)))
        if before is None:
            appeared.append((event, revision))
        elif not quiet:
            batch.add(plan_changes(before, event, revision=revision, now=now))
        replan(conn, batch, event, report)
        (report.added if before is None else report.changed).append(event.id)
    for start in range(0, len(new_rows), _CHUNK):
        conn.execute(EVENT.insert(), new_rows[start : start + _CHUNK])
    since = now - LOOKBACK
    gone = [
        row
        for row in known.values()
        if row.owner == "feed" and not row.removed and row.id not in seen and row.starts_at >= since
    ]
    if not seen and len(gone) >= EMPTIED:
        raise FeedError(
            f"feed {source_id!r} came back with no events while {len(gone)} of its upcoming events are stored; "
            "kept the last good copy (remove the source from the calendar if it is really empty)"
        )
    for row in gone:
        before = event_from_row(conn.execute(sa.select(EVENT).where(e.id == row.id)).one())
        revision = row.revision + 1
        conn.execute(EVENT.update().where(e.id == row.id).values(removed=True, revision=revision, updated_at=now))
        reason = "event removed from the feed"
        report.count_cancelled(cancel(conn, NOTIFICATION.c.event_id == row.id, reason=reason, now=now))
        # Past the new window's end (a shorter horizon) the event is not gone from the feed, only from view.
        if not quiet and row.starts_at < window_end:
            batch.add(plan_changes(before, None, revision=revision, now=now))
        report.removed.append(row.id)
    if not quiet:
        added_at = now + _AFTER_REMOVALS if gone else now
        for event, revision in appeared:
            batch.add(plan_changes(None, event, revision=revision, now=added_at))
    batch.flush()
    sync_countdowns(conn, batch, calendar, report)
    batch.flush()
    if report.added or report.changed or report.removed:
        # Other processes (replicas, the API's plan) learn of the change as they do of a database-owned edit, and
        # a file sync's kept view of the event table no longer holds (alertd.storage.stored).
        bump_events_revision(conn)
        forget_stored(conn)
    return report


def drop_feed_events(conn: sa.Connection, calendar: Calendar, *, now: datetime) -> SyncReport:
    """Remove, without notices, the events of feeds no longer in the calendar (their pending rows cancelled)."""
    keep = {s.id for s in calendar.sources}
    report = SyncReport()
    e = EVENT.c
    rows = conn.execute(sa.select(e.id, e.revision).where(e.owner == "feed", e.removed.is_(False))).all()
    dropped = [row for row in rows if source_of(row.id) not in keep]
    if not dropped:
        return report
    lock_for_transaction(conn, PLANNING)
    for row in dropped:
        values = {"removed": True, "revision": row.revision + 1, "updated_at": now}
        conn.execute(EVENT.update().where(e.id == row.id).values(**values))
        reason = "feed removed from the calendar"
        report.count_cancelled(cancel(conn, NOTIFICATION.c.event_id == row.id, reason=reason, now=now))
        report.removed.append(row.id)
    forget_stored(conn)
    batch = PlanBatch(conn, now, report)
    sync_countdowns(conn, batch, calendar, report)
    batch.flush()
    return report
