"""The event page's "Acknowledge" and "Withdraw" forms: ``POST /events/{id}/ack`` and ``POST /events/{id}/unack``.

Write sessions only, with the form's CSRF token (:func:`alertd.web.access.form_writer`). Any event can be
acknowledged, file- and feed-owned ones too: an acknowledgement is not an edit of the event. The storage call is
the API's (:mod:`alertd.storage.acks`), recorded ``via`` "dashboard"; the page then redirects back to the event.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alertd.api.deps import Backend, run_db
from alertd.errors import ConflictError, NotFoundError, UsageError
from alertd.storage import AckRecord, SyncReport, ack_event, active_acks, unack_event
from alertd.web.access import Viewer, form_writer
from alertd.web.render import page

__all__ = ["ACK_DONE", "active_ack", "router"]

router = APIRouter(include_in_schema=False)
# Occurrence and feed ids keep their "@" and ":" readable in the address bar.
_SAFE = "@:"
# The event page's one-line confirmation after each form (its ``?done=`` value; the words are labels).
ACK_DONE = frozenset({"acked", "unacked"})


def active_ack(daemon: Backend, event_id: str) -> AckRecord | None:
    """The event's current acknowledgement, for the page's chip (a read; run it through the readers)."""
    with daemon.read_engine.connect() as conn:
        return active_acks(conn, [event_id]).get(event_id)


def _changed(daemon: Backend, action: str, report: SyncReport) -> None:
    daemon.metrics.cancelled(report.cancelled_by)
    daemon.dispatcher.kick.set()
    if action == "ack":
        daemon.metrics.acknowledgements.labels("dashboard").inc()


def _refused(request: Request, viewer: Viewer, exc: UsageError) -> Response:
    status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, ConflictError) else 422
    return page(request, "refused.html", viewer.session, status=status, locale=viewer.locale, message=str(exc))


@router.post("/events/{event_id}/ack")
async def acknowledge(request: Request, event_id: str) -> Response:
    allowed = await form_writer(request)
    if isinstance(allowed, Response):
        return allowed
    viewer, fields = allowed
    daemon, by, note = viewer.daemon, fields.get("by", ""), fields.get("note") or None
    calendar, now = daemon.calendar, daemon.clock.now()
    try:
        _, new, report = await run_db(
            daemon,
            lambda: ack_event(daemon.engine, calendar, event_id=event_id, by=by, via="dashboard", now=now, note=note),
        )
    except UsageError as exc:
        return _refused(request, viewer, exc)
    if new:
        _changed(daemon, "ack", report)
    return RedirectResponse(f"/events/{quote(event_id, safe=_SAFE)}?done=acked", status_code=303)


@router.post("/events/{event_id}/unack")
async def withdraw(request: Request, event_id: str) -> Response:
    allowed = await form_writer(request)
    if isinstance(allowed, Response):
        return allowed
    viewer, fields = allowed
    daemon, by = viewer.daemon, fields.get("by", "") or "dashboard"
    calendar, now = daemon.calendar, daemon.clock.now()
    try:
        _, report = await run_db(
            daemon, lambda: unack_event(daemon.engine, calendar, event_id=event_id, by=by, now=now)
        )
    except UsageError as exc:
        return _refused(request, viewer, exc)
    _changed(daemon, "unack", report)
    return RedirectResponse(f"/events/{quote(event_id, safe=_SAFE)}?done=unacked", status_code=303)
