"""``/api/v1/calendar/status``: the running calendar and, after a rejected change, every issue of the new file.

``/readyz`` answers without a token and so says only how many errors the rejected file had; the issues
themselves (which quote the file) are here, behind the read token.
"""

from __future__ import annotations

from fastapi import APIRouter

from alertd.api.auth import ReadAccess
from alertd.api.deps import DaemonDep
from alertd.api.schemas import CalendarStatus, IssueOut, error_responses

__all__ = ["router"]

router = APIRouter(tags=["calendar"], responses=error_responses(401))


@router.get("/calendar/status", response_model=CalendarStatus, dependencies=[ReadAccess])
async def calendar_status(daemon: DaemonDep) -> CalendarStatus:
    """The file and size of the running calendar, and the issues of the newest file if it was rejected."""
    issues = [
        IssueOut(
            line=i.line, path=i.path, message=i.message, severity="warning" if i.severity == "warning" else "error"
        )
        for i in daemon.reload_issues
    ]
    return CalendarStatus(
        file=daemon.calendar_path.name,
        events=len(daemon.calendar.events),
        channels=len(daemon.calendar.channels),
        last_reload_ok=daemon.reload_error is None,
        last_reload_error=daemon.reload_error,
        issues=issues,
    )
