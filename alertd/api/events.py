"""``/api/v1/events``: read every event; create and change database-owned ones (provisioned ones answer 409)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from alertd.api.auth import ReadAccess, WriteAccess
from alertd.api.deps import Backend, DaemonDep, ReadersDep, run_db
from alertd.api.schemas import EventOut, EventPatch, MoveBody, error_responses
from alertd.calendar import EventDraft
from alertd.domain import EventSpec
from alertd.storage import SyncReport
from alertd.storage import events as eventsdb

__all__ = ["router"]

router = APIRouter(prefix="/events", tags=["events"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 503))
EventId = Annotated[str, Path(description="The event's id, e.g. truce-expiry.")]


def _out(daemon: Backend, event: EventSpec) -> EventOut:
    return EventOut.of(event, calendar_file=daemon.calendar_path.name)


def _changed(daemon: Backend, action: str, report: SyncReport) -> None:
    """A write went through: count it and the notifications it cancelled, and wake the dispatcher so new
    notifications are picked up at once."""
    daemon.metrics.api_writes.labels(action).inc()
    daemon.metrics.cancelled(report.cancelled_by)
    daemon.dispatcher.kick.set()


@router.get("", response_model=list[EventOut], dependencies=[ReadAccess])
async def list_events(daemon: DaemonDep, readers: ReadersDep) -> list[EventOut]:
    """Every event, provisioned and database-owned, in start order."""
    events = await readers.run(daemon, eventsdb.list_events, daemon.read_engine)
    return [_out(daemon, e) for e in events]


@router.get("/{event_id}", response_model=EventOut, dependencies=[ReadAccess])
async def get_event(daemon: DaemonDep, readers: ReadersDep, event_id: EventId) -> EventOut:
    event = await readers.run(daemon, eventsdb.get_event, daemon.read_engine, event_id)
    return _out(daemon, event)


@router.post("", response_model=EventOut, status_code=201, dependencies=[WriteAccess])
async def add_event(daemon: DaemonDep, draft: EventDraft) -> EventOut:
    """Create a database-owned event; it is checked exactly like an event of the calendar file."""
    calendar, now, report = daemon.calendar, daemon.clock.now(), SyncReport()
    event = await run_db(daemon, lambda: eventsdb.add_event(daemon.engine, calendar, draft, now=now, report=report))
    _changed(daemon, "add", report)
    return _out(daemon, event)


@router.patch("/{event_id}", response_model=EventOut, dependencies=[WriteAccess])
async def update_event(
    daemon: DaemonDep,
    event_id: EventId,
    patch: EventPatch,
    force: Annotated[bool, Query(description="Accept a new start in the past.")] = False,
) -> EventOut:
    """Change some fields; a changed time re-plans reminders and queues a change notice.

    A new start in the past is refused (422) unless ``force=true``."""
    calendar, now, changes, report = daemon.calendar, daemon.clock.now(), patch.changes(), SyncReport()
    event = await run_db(
        daemon,
        lambda: eventsdb.update_event(daemon.engine, calendar, event_id, changes, now=now, force=force, report=report),
    )
    _changed(daemon, "update", report)
    return _out(daemon, event)


@router.post("/{event_id}/move", response_model=EventOut, dependencies=[WriteAccess])
async def move_event(daemon: DaemonDep, event_id: EventId, body: MoveBody) -> EventOut:
    """Move the event to a new start (and zone); a start in the past is refused (422) unless ``force`` is true."""
    calendar, now, report = daemon.calendar, daemon.clock.now(), SyncReport()
    event = await run_db(
        daemon,
        lambda: eventsdb.move_event(
            daemon.engine, calendar, event_id, body.start, body.timezone, now=now, force=body.force, report=report
        ),
    )
    _changed(daemon, "move", report)
    return _out(daemon, event)


async def _set_status(daemon: Backend, event_id: str, action: str) -> EventOut:
    calendar, now, report = daemon.calendar, daemon.clock.now(), SyncReport()
    event = await run_db(
        daemon, lambda: eventsdb.set_status(daemon.engine, calendar, event_id, action, now=now, report=report)
    )
    _changed(daemon, action, report)
    return _out(daemon, event)


@router.post("/{event_id}/confirm", response_model=EventOut, dependencies=[WriteAccess])
async def confirm_event(daemon: DaemonDep, event_id: EventId) -> EventOut:
    """Mark the event confirmed (e.g. a tentative summit that now has a date)."""
    return await _set_status(daemon, event_id, "confirm")


@router.post("/{event_id}/cancel", response_model=EventOut, dependencies=[WriteAccess])
async def cancel_event(daemon: DaemonDep, event_id: EventId) -> EventOut:
    """Mark the event cancelled: its pending reminders are cancelled and a change notice goes out."""
    return await _set_status(daemon, event_id, "cancel")
