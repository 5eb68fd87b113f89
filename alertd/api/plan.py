"""``/api/v1/plan``: what would be sent in a window, rendered exactly as it would be sent (``alertd plan``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from alertd.api.auth import ReadAccess
from alertd.api.deps import Backend, DaemonDep, ReadersDep
from alertd.api.schemas import PlanItem, PlanOut, error_responses, iso
from alertd.clock import utc
from alertd.domain import Calendar
from alertd.planning import preview
from alertd.storage import load_events

__all__ = ["router"]

router = APIRouter(tags=["plan"], responses=error_responses(400, 401, 422, 503))
_DEFAULT_WINDOW = timedelta(days=30)
# Rendering every message of years of reminders would tie up the daemon; a year is plenty for a preview.
_MAX_WINDOW = timedelta(days=366)


def _current(daemon: Backend) -> Calendar:
    """The running calendar with every stored event, database-owned ones included, on channels that exist."""
    calendar = daemon.calendar
    with daemon.read_engine.begin() as conn:
        events = sorted(load_events(conn).values(), key=lambda e: (e.starts_at, e.id))
    events = [replace(e, notify=tuple(c for c in e.notify if c in calendar.channels)) for e in events]
    return replace(calendar, events=tuple(events))


@router.get("/plan", response_model=PlanOut, dependencies=[ReadAccess])
async def plan(
    daemon: DaemonDep,
    readers: ReadersDep,
    start: Annotated[
        datetime | None, Query(alias="from", description="Window start (default: now); UTC if naive.")
    ] = None,
    until: Annotated[datetime | None, Query(description="Window end (default: 30 days after the start).")] = None,
) -> PlanOut:
    """Every reminder and countdown due in the window, in due order."""
    try:
        lo = utc(start) if start is not None else daemon.clock.now()
        hi = utc(until) if until is not None else lo + _DEFAULT_WINDOW
    except (OverflowError, ValueError):
        raise HTTPException(400, "from/until out of range") from None
    if hi < lo:
        raise HTTPException(400, "until is before from")
    if hi - lo > _MAX_WINDOW:
        raise HTTPException(400, f"the window is longer than {_MAX_WINDOW.days} days; ask for a shorter one")
    return await readers.run(daemon, _plan, daemon, lo, hi)


def _plan(daemon: Backend, lo: datetime, hi: datetime) -> PlanOut:
    # Reading and rendering both off the event loop: a year of messages takes a while.
    items = preview(_current(daemon), start=lo, end=hi)
    return PlanOut(start=iso(lo), until=iso(hi), items=[PlanItem(**i.as_json()) for i in items])
