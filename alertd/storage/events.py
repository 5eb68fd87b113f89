"""Database-owned events (``owner="db"``): what ``alertd events …`` and the HTTP API read and write (SPEC §7).

Every write validates the event exactly as the calendar file would (:mod:`alertd.calendar.drafts`), then stores it,
re-plans its notifications and queues its change notices in one transaction (:func:`alertd.storage.sync.apply_event`).
Events provisioned by the calendar file are read-only here: the file owns them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from alertd.calendar import EventDraft, EventIssue, draft_from_mapping, resolve_draft, source_of
from alertd.domain import EVENT_STATUSES, Calendar, EventSpec, start_text
from alertd.errors import CalendarError, ConflictError, NotFoundError, StorageError
from alertd.planning import event_fingerprint, series_id
from alertd.storage.db import describe_db_error
from alertd.storage.eventrows import EVENT, event_from_row, load_events
from alertd.storage.pglocks import PLANNING, lock_for_transaction
from alertd.storage.sync import SyncReport, apply_event
from alertd.timeexpr import zone

__all__ = [
    "STATUS_WORDS",
    "EventDraft",
    "add_event",
    "current_events",
    "event_as_json",
    "event_revisions",
    "feed_owned",
    "get_event",
    "list_events",
    "move_event",
    "planned_calendar",
    "set_status",
    "update_event",
]

# The CLI verbs (and the statuses themselves) that set_status accepts.
STATUS_WORDS: Mapping[str, str] = {"confirm": "confirmed", "cancel": "cancelled"} | {s: s for s in EVENT_STATUSES}


@contextmanager
def _transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    try:
        with engine.begin() as conn:
            yield conn
    except IntegrityError:
        raise
    except DBAPIError as exc:
        raise StorageError(describe_db_error(str(engine.url), exc)) from None


def _file_name(calendar: Calendar) -> str:
    # The bare file name: enough for the operator, and the API must not reveal the server's folders.
    return Path(calendar.path).name or calendar.path


def _in_file(calendar: Calendar, event_id: str) -> bool:
    """Whether the calendar file defines ``event_id``: an event, a recurring event or one of its occurrences."""
    series = {s.event.id for s in calendar.series}
    return any(e.id == event_id for e in calendar.events) or event_id in series or series_id(event_id) in series


def feed_owned(event_id: str, calendar: Calendar) -> str:
    """Why a feed event cannot be edited here, naming the feed to edit instead (its URL cut to the host)."""
    sid = source_of(event_id)
    source = next((s for s in calendar.sources if s.id == sid), None)
    where = f" ({source.where})" if source is not None else ""
    return f"event {event_id!r} comes from the calendar feed {sid!r}{where}; edit it in that calendar"


def _not_found(event_id: str) -> NotFoundError:
    return NotFoundError(f"no event {event_id!r}; see the ids with 'alertd events list'")


def list_events(engine: sa.Engine) -> list[EventSpec]:
    """Every event that is not removed, provisioned and database-owned, by start time."""
    with _transaction(engine) as conn:
        events = load_events(conn)
    return sorted(events.values(), key=lambda e: (e.starts_at, e.id))


def get_event(engine: sa.Engine, event_id: str) -> EventSpec:
    """One event that is not removed; NotFoundError otherwise."""
    with _transaction(engine) as conn:
        found = load_events(conn, [event_id])
    if event_id not in found:
        raise _not_found(event_id)
    return found[event_id]


def current_events(engine: sa.Engine, calendar: Calendar) -> list[EventSpec]:
    """What the calendar holds right now: provisioned events as the file says (even before the daemon has
    applied the file) and database-owned events as stored, by start time."""
    with _transaction(engine) as conn:
        stored = load_events(conn)
    # The occurrences of the file's recurring events as the daemon stored them (the file's own, if given, win).
    series = {s.event.id for s in calendar.series}
    events = {e.id: e for e in stored.values() if e.owner == "file" and series_id(e.id) in series}
    events |= {e.id: e for e in calendar.events}
    # The file knows nothing of acknowledgements: the stored row does.
    acked = {i for i, e in stored.items() if e.acknowledged}
    events = {i: replace(e, acknowledged=True) if i in acked and not e.acknowledged else e for i, e in events.items()}
    # An id the database owns wins: a reload skips a file event that clashes with it (see sync_calendar). Feed
    # events are only ever in the database, as the last refresh stored them.
    events |= {e.id: e for e in stored.values() if e.owner in ("db", "feed")}
    return sorted(events.values(), key=lambda e: (e.starts_at, e.id))


def planned_calendar(engine: sa.Engine, calendar: Calendar) -> Calendar:
    """``calendar`` with the events the daemon plans from it now (:func:`current_events`), each notifying only
    channels that exist: what ``alertd plan`` and ``/api/v1/plan`` preview."""
    events = [
        replace(e, notify=tuple(c for c in e.notify if c in calendar.channels))
        for e in current_events(engine, calendar)
    ]
    return replace(calendar, events=tuple(events))


def event_revisions(engine: sa.Engine) -> dict[str, int]:
    """The revision of every stored event (it grows by one with each change): the iCalendar SEQUENCE."""
    with _transaction(engine) as conn:
        return {row.id: row.revision for row in conn.execute(sa.select(EVENT.c.id, EVENT.c.revision))}


def add_event(
    engine: sa.Engine, calendar: Calendar, draft: EventDraft, *, now: datetime, report: SyncReport | None = None
) -> EventSpec:
    """Create a database-owned event; ConflictError if the id is taken (also by the file), CalendarError if invalid.

    ``report``, when given, is added to: what was queued and cancelled (the caller's metrics)."""
    if _in_file(calendar, draft.id):
        raise ConflictError(f"event {draft.id!r} is defined in {_file_name(calendar)}; choose another id")
    event, _ = resolve_draft(draft, calendar)
    try:
        with _transaction(engine) as conn:
            # FOR UPDATE cannot lock a row that does not exist yet: two adds of one new id are serialized by the
            # planning lock instead, taken before the check (apply_event takes it again; it is re-entrant).
            lock_for_transaction(conn, PLANNING)
            row = conn.execute(
                sa.select(EVENT.c.owner, EVENT.c.removed).where(EVENT.c.id == draft.id).with_for_update()
            ).one_or_none()
            if row is not None and not row.removed:
                where = f"in {_file_name(calendar)}" if row.owner == "file" else "already"
                raise ConflictError(f"event {draft.id!r} exists {where}; choose another id")
            # A removed row (an event deleted from the file) may be taken over: its history stays with the id.
            apply_event(conn, calendar, event, now=now, draft=draft.model_dump(), report=report)
    except IntegrityError:
        # Another writer created the same id between our check and our insert.
        raise ConflictError(f"event {draft.id!r} exists already; choose another id") from None
    return event


def update_event(
    engine: sa.Engine,
    calendar: Calendar,
    event_id: str,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    force: bool = False,
    report: SyncReport | None = None,
) -> EventSpec:
    """Change fields of a database-owned event (EventDraft field names); a no-op change writes nothing.

    A new start in the past is refused unless ``force``: it is usually a typo (the wrong year), and it would
    silently drop every reminder."""
    if "id" in changes and changes["id"] != event_id:
        problem = ("id", "the id cannot be changed: add a new event and cancel this one")
        raise CalendarError([EventIssue(f"event {event_id!r}", 0, *problem)])
    with _transaction(engine) as conn:
        row = conn.execute(sa.select(EVENT).where(EVENT.c.id == event_id).with_for_update()).one_or_none()
        owned = row is not None and not row.removed and row.owner == "db" and row.draft is not None
        if row is not None and not row.removed and row.owner == "feed":
            raise ConflictError(feed_owned(event_id, calendar))
        # The file may define the event before a running daemon has stored it: it is still the file's.
        if not owned and (_in_file(calendar, event_id) or (row is not None and not row.removed)):
            raise ConflictError(f"event {event_id!r} is defined in {_file_name(calendar)}; edit the file instead")
        if row is None or not owned:
            raise _not_found(event_id)
        merged = dict(row.draft) | dict(changes)
        if "start" in changes and "all_day" not in changes:
            merged["all_day"] = None  # a new start says for itself whether it is a date or a time
        draft = draft_from_mapping(merged)
        event, _ = resolve_draft(draft, calendar)
        if event_fingerprint(event) == row.fingerprint and draft.model_dump() == row.draft:
            return event_from_row(row)
        if not force and event.starts_at != row.starts_at and _is_past(event, now):
            raise _in_the_past(event, now)
        apply_event(conn, calendar, event, now=now, draft=draft.model_dump(), report=report)
    return event


def _is_past(event: EventSpec, now: datetime) -> bool:
    # An all-day event is still current on its own day, in its own zone.
    if event.all_day:
        return event.local_start.date() < now.astimezone(zone(event.timezone)).date()
    return event.starts_at <= now


def _in_the_past(event: EventSpec, now: datetime) -> CalendarError:
    when = start_text(event)
    message = (
        f"{when} ({event.timezone}) is in the past (now {now:%Y-%m-%d %H:%M}Z) and would drop every reminder; "
        'check the year, or force the move (--force; "force": true in the API)'
    )
    return CalendarError([EventIssue(f"event {event.id!r}", 0, "start", message)])


def move_event(
    engine: sa.Engine,
    calendar: Calendar,
    event_id: str,
    start: str,
    timezone: str | None = None,
    *,
    now: datetime,
    force: bool = False,
    report: SyncReport | None = None,
) -> EventSpec:
    """Give a database-owned event a new start (calendar-file syntax), and optionally a new zone; a start in the
    past is refused unless ``force``."""
    changes: dict[str, Any] = {"start": start}
    if timezone is not None:
        changes["timezone"] = timezone
    return update_event(engine, calendar, event_id, changes, now=now, force=force, report=report)


def set_status(
    engine: sa.Engine,
    calendar: Calendar,
    event_id: str,
    status: str,
    *,
    now: datetime,
    report: SyncReport | None = None,
) -> EventSpec:
    """Confirm, cancel, postpone or mark tentative (``confirm``/``cancel`` or any status name)."""
    changes = {"status": STATUS_WORDS.get(status, status)}
    return update_event(engine, calendar, event_id, changes, now=now, report=report)


def event_as_json(event: EventSpec) -> dict[str, Any]:
    """The stable JSON shape of an event for the CLI (and anything else that prints one)."""
    return {
        "id": event.id,
        "title": event.title,
        "starts_at": event.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_start": start_text(event),
        "all_day": event.all_day,
        "timezone": event.timezone,
        "status": event.status,
        "tags": list(event.tags),
        "source": event.source,
        "notes": event.notes,
        "reminders": [o.text for o in event.reminders],
        "notify": list(event.notify),
        "owner": event.owner,
        "acknowledged": event.acknowledged,
    }
