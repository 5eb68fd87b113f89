"""``/calendar.ics``: the running calendar (file and database-owned events) as iCalendar, one alarm per reminder.

Calendar apps subscribe by URL and cannot send a bearer header, so the same calendar is also served at
``/calendar/<ALERTD_FEED_TOKEN>.ics``: the token in the path is the credential (changing it revokes every copy of
the URL). A wrong or unset feed token answers 404, like any unknown path, so the route reveals nothing.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from alertd.api.auth import ReadAccess
from alertd.api.deps import Backend, DaemonDep, Readers, ReadersDep
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
    return await _calendar(daemon, readers)


@router.get(
    "/calendar/{feed_token}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "RFC 5545"},
        **error_responses(404),
    },
)
async def calendar_feed(
    daemon: DaemonDep, readers: ReadersDep, feed_token: Annotated[str, Path(description="ALERTD_FEED_TOKEN.")]
) -> Response:
    """The same calendar for calendar apps that subscribe by URL: the feed token in the path replaces the bearer
    header. 404 when the token is wrong or no feed token is set."""
    secret = daemon.settings.feed_token
    # Constant time, so response timing does not reveal how much of a guessed token was right.
    if secret is None or not hmac.compare_digest(feed_token.encode(), secret.get_secret_value().encode()):
        raise HTTPException(status_code=404, detail="Not Found")
    return await _calendar(daemon, readers)


async def _calendar(daemon: Backend, readers: Readers) -> Response:
    text = await readers.run(daemon, _export, daemon)
    return Response(
        content=text.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="alertd.ics"'},
    )
