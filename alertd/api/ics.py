"""``/calendar.ics``: the running calendar (file and database-owned events) as iCalendar, one alarm per reminder."""

from __future__ import annotations

from fastapi import APIRouter, Response

from alertd.api.auth import ReadAccess
from alertd.api.deps import Backend, DaemonDep, ReadersDep
from alertd.api.schemas import error_responses
from alertd.planning import render_calendar
from alertd.storage import current_events, event_revisions

__all__ = ["router"]

router = APIRouter(tags=["calendar"], responses=error_responses(401, 503))


def _export(daemon: Backend) -> str:
    engine, calendar = daemon.read_engine, daemon.calendar
    return render_calendar(
        current_events(engine, calendar), calendar, daemon.clock.now(), revisions=event_revisions(engine)
    )


@router.get(
    "/calendar.ics",
    dependencies=[ReadAccess],
    response_class=Response,
    responses={200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "RFC 5545"}},
)
async def calendar_ics(daemon: DaemonDep, readers: ReadersDep) -> Response:
    """The calendar as iCalendar (RFC 5545) with VTIMEZONEs and one VALARM per reminder."""
    text = await readers.run(daemon, _export, daemon)
    return Response(
        content=text.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="alertd.ics"'},
    )
