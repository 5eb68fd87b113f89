"""``/api/v1/plan``: what would be sent in a window, rendered exactly as it would be sent (``alertd plan``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from alertd.api.auth import ReadAccess
from alertd.api.deps import Backend, DaemonDep, ReadersDep
from alertd.api.schemas import PlanItem, PlanOut, error_responses, iso
from alertd.clock import utc
from alertd.planning import preview, with_occurrences
from alertd.storage import planned_calendar

__all__ = ["router"]

router = APIRouter(tags=["plan"], responses=error_responses(400, 401, 422, 503))
_DEFAULT_WINDOW = timedelta(days=30)
# Rendering every message of years of reminders would tie up the daemon; a year is plenty for a preview.
_MAX_WINDOW = timedelta(days=366)


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
    # Reading and rendering both off the event loop: a year of messages takes a while, and a channel template
    # renders in its worker process (up to seconds for a bad one).
    calendar = with_occurrences(daemon.calendar, start=lo, end=hi, by_due=True)
    items = preview(planned_calendar(daemon.read_engine, calendar), start=lo, end=hi)
    return PlanOut(start=iso(lo), until=iso(hi), items=[PlanItem(**i.as_json()) for i in items])
