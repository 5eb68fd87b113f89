"""Bring the database in line with a calendar: store events, (re)plan their notifications, queue change notices."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import attrgetter, contains, ne
from typing import Any

import sqlalchemy as sa

from alertd.calendar import EventDraft, resolve_draft
from alertd.domain import Calendar, EventSpec, Planned
from alertd.errors import CalendarError
from alertd.planning import (
    DEFAULT_HORIZON_DAYS,
    SERIES_MARK,
    event_fingerprint,
    event_fingerprints,
    plan_changes,
    plan_countdowns,
    plan_escalations,
    plan_reminders,
    renames,
)
from alertd.storage.ackrows import acked_ids
from alertd.storage.eventrows import EVENT, event_from_row, event_values, load_events
from alertd.storage.models import Meta
from alertd.storage.outbox import NOTIFICATION, cancel, enqueue
from alertd.storage.pglocks import PLANNING, lock_for_transaction
from alertd.storage.series import SeriesNotices, Window, read_window_end, window_calendar, write_window_end
from alertd.storage.stored import (
    Stored,
    StoredCache,
    absent_rows,
    add_db_owned,
    forget_stored,
    keep_stored,
    read_stored,
)

__all__ = [
    "EVENTS_REV",
    "PlanBatch",
    "SyncReport",
    "apply_event",
    "bump_events_revision",
    "events_revision",
    "planned_for",
    "refresh_countdowns",
    "replan",
    "sync_calendar",
    "sync_countdowns",
]

META = Meta.__table__  # type: ignore[attr-defined]
_FLUSH = 20_000
# How much later than the "removed" notices of a sync its "added" ones are due, so they are sent in that order.
_AFTER_REMOVALS = timedelta(seconds=1)
# Bumped by every write to a database-owned event, so a daemon in another process notices and wakes up.
EVENTS_REV = "events_rev"

log = logging.getLogger("alertd.sync")
_ID = attrgetter("id")
# The fingerprint an event keeps once computed (alertd.planning.fingerprint), None before.
_MEMO = attrgetter("memo_fingerprint")


@dataclass(slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    queued: int = 0
    cancelled: int = 0
    # The same cancellations by (kind, channel): the outcome metric's labels.
    cancelled_by: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count_cancelled(self, rows: Counter[tuple[str, str]]) -> None:
        self.cancelled += rows.total()
        self.cancelled_by.update(rows)

    def __str__(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed; "
            f"{self.queued} notifications queued, {self.cancelled} cancelled"
        )


class _Batch:
    """Collects planned rows and writes them in large chunks, so 100k events do not sit in memory at once."""

    def __init__(self, conn: sa.Connection, now: datetime, report: SyncReport) -> None:
        self.conn, self.now, self.report = conn, now, report
        self.rows: list[Planned] = []

    def add(self, planned: list[Planned]) -> None:
        self.rows.extend(planned)
        if len(self.rows) >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        self.report.queued += enqueue(self.conn, self.rows, now=self.now)
        self.rows = []


def _meta(conn: sa.Connection, key: str) -> str | None:
    value: str | None = conn.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()
    return value


def _set_meta(conn: sa.Connection, key: str, value: str) -> None:
    if conn.execute(META.update().where(META.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(META.insert().values(key=key, value=value))


def planned_for(event: EventSpec) -> list[Planned]:
    """The reminders and escalation steps ``event`` wants (no reminders once it is acknowledged with ``stop``)."""
    return [*plan_reminders(event, event.notify), *plan_escalations(event)]


def _replan(conn: sa.Connection, batch: _Batch, event: EventSpec, report: SyncReport) -> None:
    # The file and drafts know nothing of acknowledgements: the row does (alertd.storage.acks keeps it).
    acked = conn.execute(sa.select(EVENT.c.acknowledged).where(EVENT.c.id == event.id)).scalar()
    if acked:
        event = replace(event, acknowledged=True)
    wanted = planned_for(event)
    report.count_cancelled(
        cancel(
            conn,
            sa.and_(NOTIFICATION.c.event_id == event.id, NOTIFICATION.c.kind.in_(("reminder", "escalation"))),
            keep=[p.id for p in wanted],
            reason="event changed; re-planned",
            now=batch.now,
        )
    )
    batch.add(wanted)


def sync_calendar(
    conn: sa.Connection,
    calendar: Calendar,
    *,
    now: datetime,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    occurrences_only: bool = False,
    cache: StoredCache | None = None,
) -> SyncReport:
    """Apply ``calendar`` to the database inside the caller's transaction.

    Recurring events are stored as their occurrences from about ``now`` to ``horizon_days`` ahead
    (alertd.storage.series); syncing the same calendar again later moves that window forward. With
    ``occurrences_only`` (the calendar is the one last applied, only time has passed) the other events are not
    compared again: what a 100k-event calendar costs to compare is spent once per edit, not once per move.
    ``cache``, kept by a caller that syncs the same database again and again, spares the next sync reading the
    stored events back when nothing else wrote them meanwhile (alertd.storage.stored). The calendar's events have
    distinct ids, as the loader makes sure.
    """
    # Replicas reload the same file at about the same moment: the second waits, then finds nothing to change.
    lock_for_transaction(conn, PLANNING)
    report = SyncReport()
    batch = _Batch(conn, now, report)
    window = Window(calendar, now=now, horizon_days=horizon_days, previous_end=read_window_end(conn))
    calendar = window_calendar(calendar, now=now, horizon_days=horizon_days)
    notices = SeriesNotices(now)
    events: Sequence[EventSpec] = calendar.events
    if occurrences_only:
        events = list(compress(events, map(contains, map(_ID, events), repeat(SERIES_MARK))))
    stored = read_stored(conn, occurrences_only=occurrences_only, cache=cache)
    # The very first load of a calendar announces nothing: every event would otherwise be "added".
    bootstrap = not stored.live and not any(row.owner == "file" for row in stored.other.values())
    # Each event's kept fingerprint against the stored one ("" where none is stored), in C: only the events that
    # differ or were never digested (a first load's) take a Python step, unchanged ones of a reload none.
    stored_print = stored.live.get
    differs = map(ne, map(_MEMO, events), map(stored_print, map(_ID, events), repeat("")))
    candidates = list(compress(events, differs))
    changed = [
        (e, fingerprint)
        for e, fingerprint in zip(candidates, event_fingerprints(candidates), strict=True)
        if stored_print(e.id) != fingerprint
    ]
    differing = {e.id for e, _ in changed}
    if not occurrences_only:
        # Only now, and only for these ids: a calendar event that takes the id of a database-owned one is refused.
        add_db_owned(conn, stored, differing)
    # Every stored live event the calendar still has is either unchanged or among the differing (ids are distinct):
    # when they add up to all of them, none has left the calendar, and no set of 100k ids need be built to know.
    kept = len(events) - len(changed) + sum(map(stored.live.__contains__, differing))
    everything_kept = kept == len(stored.live)
    new_rows = []
    # Events that appear (new, or back after removal) are announced once the gone ones are known: an event whose
    # id was renamed is both, and is announced as one rename rather than as "added" and "removed".
    appeared: list[tuple[EventSpec, int]] = []
    # An occurrence the window left and now reaches again is stored anew: its acknowledgement row says it is handled.
    fresh = [i for i in differing if SERIES_MARK in i and i not in stored.live and i not in stored.other]
    returning = acked_ids(conn, fresh) if fresh else set()
    for event, fingerprint in changed:
        other = stored.other.get(event.id)
        if event.id not in stored.live and other is None:
            if event.id in returning:
                event = replace(event, acknowledged=True)
            values = event_values(event, revision=1, now=now, fingerprint=fingerprint)
            new_rows.append(values | {"acknowledged": event.acknowledged})
            stored.wrote(event.id, fingerprint)
            batch.add(planned_for(event))
            appeared.append((event, 1))
            report.added.append(event.id)
            continue
        if other is not None and other.owner != "file":
            if not other.removed:
                log.warning("calendar event %r ignored: the id belongs to a database-owned event; rename one", event.id)
            report.skipped.append(event.id)
            continue
        row = conn.execute(sa.select(EVENT).where(EVENT.c.id == event.id)).one()
        before = None if row.removed else event_from_row(row)
        revision = row.revision + 1
        values = event_values(event, revision=revision, now=now, fingerprint=fingerprint)
        conn.execute(EVENT.update().where(EVENT.c.id == event.id).values(**values))
        stored.wrote(event.id, fingerprint)
        if before is None:
            appeared.append((event, revision))
        else:
            batch.add(notices.offer(event, plan_changes(before, event, revision=revision, now=now)))
        _replan(conn, batch, event, report)
        (report.added if before is None else report.changed).append(event.id)
    for start in range(0, len(new_rows), 5000):
        conn.execute(EVENT.insert(), new_rows[start : start + 5000])
    # Only database-owned events with a draft can change with the calendar: reading the others back one by one
    # took a minute on a 1M-row outbox before a daemon could start.
    drafted = [i for i, row in stored.other.items() if row.owner == "db" and not row.removed and row.drafted]
    for start in range(0, len(drafted), 500):
        chunk = drafted[start : start + 500]
        rows = {r.id: r for r in conn.execute(sa.select(EVENT).where(EVENT.c.id.in_(chunk))).all()}
        for event_id in chunk:
            _refresh_db_event(conn, batch, calendar, rows[event_id], report)
    # Of the ids not stored as live events, those in the calendar are all differing.
    absent = absent_rows(conn, stored, differing if everything_kept else set(map(_ID, events)), everything_kept)
    dropped = _drop_outside(conn, window, absent, report, stored)
    gone = {
        row.id: (row, event_from_row(conn.execute(sa.select(EVENT).where(EVENT.c.id == row.id)).one()))
        for row in absent
        if not row.removed and not window.retired(row.id, row.starts_at) and not window.beyond(row.id, row.starts_at)
    }
    renamed = renames([event for event, _ in appeared], [before for _, before in gone.values()])
    renamed_to = {old.id: new_id for new_id, old in renamed.items()}
    for row, before in gone.values():
        conn.execute(
            EVENT.update().where(EVENT.c.id == row.id).values(removed=True, revision=row.revision + 1, updated_at=now)
        )
        stored.removed(row.id)
        new_id = renamed_to.get(row.id)
        reason = f"event renamed to {new_id!r}" if new_id else "event removed from the calendar"
        report.count_cancelled(cancel(conn, NOTIFICATION.c.event_id == row.id, reason=reason, now=now))
        if new_id is None:
            batch.add(notices.offer(before, plan_changes(before, None, revision=row.revision + 1, now=now)))
        report.removed.append(row.id)
    # The event rows are as this sync leaves them: the next one may start from these maps (if this one commits).
    keep_stored(conn, stored, cache)
    if not bootstrap:
        # After any "removed" notice: a reader who sees an event go and another come reads them in that order.
        added_at = now + _AFTER_REMOVALS if len(gone) > len(renamed) else now
        for event, revision in appeared:
            old = renamed.get(event.id)
            if old is not None:
                batch.add(notices.offer(event, plan_changes(old, event, revision=revision, now=now, renamed=True)))
            elif not window.quiet_arrival(event):
                batch.add(notices.offer(event, plan_changes(None, event, revision=revision, now=added_at)))
    batch.add(notices.release())
    if calendar.series or window.previous_end is not None:
        write_window_end(conn, window.end)
    removed_channels = [c for c in _queued_channels(conn) if c not in calendar.channels]
    if removed_channels:
        report.count_cancelled(
            cancel(
                conn,
                NOTIFICATION.c.channel.in_(removed_channels),
                reason="channel removed from the calendar",
                now=now,
            )
        )
    batch.flush()
    if occurrences_only and not (report.added or report.changed or report.removed or dropped):
        # Nothing the digests list has changed: reading every event back to make sure would cost most of the move.
        return report
    _sync_countdowns(conn, batch, calendar, report)
    batch.flush()
    return report


def _drop_outside(conn: sa.Connection, window: Window, absent: list[Any], report: SyncReport, stored: Stored) -> int:
    """Delete the stored occurrences that left the window, quietly: into the past (their sent notifications stay in
    history; any follow-up is over) or past its end (the horizon shrank; they come back as it reaches them)."""
    past = [row.id for row in absent if window.retired(row.id, row.starts_at)]
    ahead = [row.id for row in absent if window.beyond(row.id, row.starts_at)]
    for start in range(0, len(ahead), 500):
        chunk = ahead[start : start + 500]
        reason = "occurrence beyond the recurrence horizon (ALERTD_RECURRENCE_HORIZON)"
        report.count_cancelled(cancel(conn, NOTIFICATION.c.event_id.in_(chunk), reason=reason, now=window.now))
    dropped = past + ahead
    for start in range(0, len(dropped), 500):
        conn.execute(EVENT.delete().where(EVENT.c.id.in_(dropped[start : start + 500])))
    for event_id in dropped:
        stored.deleted(event_id)
    return len(dropped)


def _queued_channels(conn: sa.Connection) -> list[str]:
    """Every channel named by a notification row: one index seek per channel, not a scan of the outbox."""
    n = NOTIFICATION.c
    found: list[str] = []
    while True:
        query = sa.select(sa.func.min(n.channel))
        if found:
            query = query.where(n.channel > found[-1])
        value: str | None = conn.execute(query).scalar()
        if value is None:
            return found
        found.append(value)


def _refresh_db_event(conn: sa.Connection, batch: _Batch, calendar: Calendar, row: Any, report: SyncReport) -> None:
    """Re-apply the calendar's defaults and channels to one database-owned event; it is never removed here."""
    event_id: str = row.id
    if row.draft is None:
        return
    try:
        event, _ = resolve_draft(EventDraft.model_validate(row.draft), calendar, lenient=True)
    except CalendarError as exc:
        # Keep the event as last stored: an edit through the CLI or API will surface the problem to its owner.
        log.warning("database event %r no longer fits the calendar, kept unchanged: %s", event_id, exc)
        return
    if row.fingerprint == event_fingerprint(event):
        return
    revision = row.revision + 1
    values = event_values(event, revision=revision, now=batch.now) | {"draft": row.draft}
    conn.execute(EVENT.update().where(EVENT.c.id == event_id).values(**values))
    batch.add(plan_changes(event_from_row(row), event, revision=revision, now=batch.now))
    _replan(conn, batch, event, report)
    report.changed.append(event_id)


def apply_event(
    conn: sa.Connection,
    calendar: Calendar,
    event: EventSpec,
    *,
    now: datetime,
    draft: Mapping[str, Any],
    report: SyncReport | None = None,
) -> tuple[SyncReport, int]:
    """Store one database-owned event (new or changed) as a calendar reload would store a file event.

    Re-plans its reminders, queues its change notice, refreshes the countdown digests and bumps ``events_rev``,
    all inside the caller's transaction. Returns the report (``report`` if given, added to) and the event's new
    revision.
    """
    lock_for_transaction(conn, PLANNING)
    report = SyncReport() if report is None else report
    batch = _Batch(conn, now, report)
    row = conn.execute(sa.select(EVENT).where(EVENT.c.id == event.id)).one_or_none()
    before = None if row is None or row.removed else event_from_row(row)
    revision = 1 if row is None else row.revision + 1
    values = event_values(event, revision=revision, now=now) | {"draft": dict(draft)}
    if row is None:
        conn.execute(EVENT.insert().values(**values))
    else:
        conn.execute(EVENT.update().where(EVENT.c.id == event.id).values(**values))
    batch.add(plan_changes(before, event, revision=revision, now=now))
    _replan(conn, batch, event, report)
    (report.added if before is None else report.changed).append(event.id)
    forget_stored(conn)
    batch.flush()
    _sync_countdowns(conn, batch, calendar, report)
    batch.flush()
    bump_events_revision(conn)
    return report, revision


def bump_events_revision(conn: sa.Connection) -> None:
    """Tell daemons in other processes that database events changed (they re-read them and wake up)."""
    _set_meta(conn, EVENTS_REV, str(int(_meta(conn, EVENTS_REV) or 0) + 1))


def refresh_countdowns(conn: sa.Connection, calendar: Calendar, *, now: datetime) -> SyncReport:
    """Re-plan the countdown digests now (an acknowledgement takes an event off them, or puts it back)."""
    report = SyncReport()
    conn.execute(META.delete().where(META.c.key == "countdown_fingerprint"))
    batch = _Batch(conn, now, report)
    _sync_countdowns(conn, batch, calendar, report)
    batch.flush()
    return report


def events_revision(conn: sa.Connection) -> str | None:
    """The ``events_rev`` counter: it changes whenever a database-owned event is written."""
    return _meta(conn, EVENTS_REV)


def _sync_countdowns(conn: sa.Connection, batch: _Batch, calendar: Calendar, report: SyncReport) -> None:
    spec = calendar.defaults.countdown
    digest = hashlib.sha256()
    if spec is not None:
        # Only events that take part in digests can change them; with digests off no event can (an edit of a
        # 100k-event calendar would otherwise read every fingerprint back to find that out).
        fingerprint_rows = conn.execute(
            sa.select(EVENT.c.id, EVENT.c.fingerprint)
            .where(EVENT.c.removed.is_(False), EVENT.c.countdown.is_(True))
            .order_by(EVENT.c.id)
        )
        for row in fingerprint_rows:
            digest.update(f"{row.id}={row.fingerprint};".encode())
    channels = {c.id: [c.type, c.timezone] for c in calendar.channels.values()}
    digest.update(json.dumps([channels, spec and [spec.within_days, spec.at.isoformat()]], sort_keys=True).encode())
    if _meta(conn, "countdown_fingerprint") == digest.hexdigest():
        return
    # Without digests there is nothing to plan: skip reading every event back (a quarter of a 100k-event sync).
    wanted = plan_countdowns(load_events(conn).values(), calendar.channels, spec) if spec is not None else []
    report.count_cancelled(
        cancel(
            conn,
            NOTIFICATION.c.kind == "countdown",
            keep=[p.id for p in wanted],
            reason="no event left to count down",
            now=batch.now,
        )
    )
    batch.add(wanted)
    batch.flush()
    # A digest id names a channel and a day, not a time, so that a day never gets two digests: a new
    # ``countdown.at`` or channel zone must move the queued (never attempted) digests instead.
    n = NOTIFICATION.c
    due = sa.bindparam("b_due", type_=n.due_at.type)
    moved = [{"b_id": p.id, "b_due": p.due_at, "b_exp": p.expires_at} for p in wanted if p.due_at > batch.now]
    if moved:
        conn.execute(
            NOTIFICATION.update()
            .where(n.id == sa.bindparam("b_id"), n.state == "pending", n.attempts == 0, n.due_at != due)
            .values(due_at=due, next_at=due, expires_at=sa.bindparam("b_exp", type_=n.expires_at.type)),
            moved,
        )
    _set_meta(conn, "countdown_fingerprint", digest.hexdigest())


# The planning steps a file sync is made of, shared with the feed sync (alertd.storage.feedsync), which plans feed
# events exactly as file events are planned.
PlanBatch = _Batch
replan = _replan
sync_countdowns = _sync_countdowns
