"""Event pages: ``/events/{id}`` shows one event; a database-owned one can be moved, confirmed, postponed or
cancelled, and ``/events/new`` creates one. Every change is previewed (what it will send) before it is saved.

Saving goes through the API's own handlers, so the checks, metrics and the dispatcher's wake-up are the API's.
A file-owned event (an occurrence of a file's recurring event too) is shown read-only with the file and line to
edit; a calendar feed's event read-only with the feed to edit it in.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from alertd.api.events import add_event, update_event
from alertd.api.schemas import EventPatch
from alertd.calendar import EventDraft, draft_from_mapping, resolve_draft
from alertd.errors import CalendarError, UsageError
from alertd.planning import plan_reminders
from alertd.storage import AckRecord, feed_owned, get_event
from alertd.web.access import Viewer, form_writer, viewer_of
from alertd.web.acks import ACK_DONE, active_ack
from alertd.web.board import STATUSES, series_of
from alertd.web.changes import ChangePreview, Reminder, file_line, preview_change, stored_draft
from alertd.web.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_EDITABLE = ("start", "timezone", "status")
_NEW_FIELDS = ("id", "title", "start", "timezone", "status", "tags")
# The notes shown after a redirect (?done=…): keys of the pages' labels.
_DONE = frozenset({"saved", "created", *ACK_DONE})


def _field_errors(exc: CalendarError | ValidationError) -> dict[str, str]:
    """Problems by form field ("start", "timezone", …); "" holds those that belong to no one field."""
    found: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            found.setdefault(str(err["loc"][0]) if err["loc"] else "", str(err["msg"]))
        return found
    for issue in exc.issues:
        field = issue.path.split(".")[0] if issue.path.split(".")[0] in _NEW_FIELDS else ""
        found.setdefault(field, issue.message)
    return found


def _event_page(
    request: Request,
    viewer: Viewer,
    event_id: str,
    *,
    event: Any,
    draft: dict[str, Any] | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    preview: ChangePreview | None = None,
    line: int | None = None,
    status: int = 200,
    ack: AckRecord | None = None,
) -> Response:
    feed_note = feed_owned(event_id, viewer.daemon.calendar) if event.owner == "feed" else ""
    return page(
        request,
        "event.html",
        viewer.session,
        status=status,
        locale=viewer.locale,
        event=event,
        editable=draft is not None,
        values=values,
        errors=errors or {},
        preview=preview,
        statuses=STATUSES,
        file=viewer.daemon.calendar_path.name,
        line=line,
        ack=ack,
        feed_note=feed_note,
        series=series_of(event_id) or "",
        done=done if (done := request.query_params.get("done", "")) in _DONE else "",
    )


@router.get("/events/new")
async def new_form(request: Request) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return viewer
    values = {"timezone": viewer.daemon.calendar.timezone, "status": "confirmed"}
    return page(
        request,
        "new_event.html",
        viewer.session,
        locale=viewer.locale,
        values=values,
        errors={},
        preview=None,
        statuses=STATUSES,
    )


@router.post("/events/new")
async def create(request: Request) -> Response:
    allowed = await form_writer(request)
    if isinstance(allowed, Response):
        return allowed
    viewer, fields = allowed
    values = {k: fields.get(k, "").strip() for k in _NEW_FIELDS}
    daemon = viewer.daemon
    data: dict[str, Any] = {k: v for k, v in values.items() if v and k != "tags"}
    data["tags"] = [t.strip() for t in values["tags"].split(",") if t.strip()]
    errors: dict[str, str] = {}
    planned: list[Reminder] = []
    try:
        draft = draft_from_mapping(data)
        event, _ = resolve_draft(draft, daemon.calendar)
        if fields.get("action") == "save":
            await add_event(daemon, EventDraft.model_validate(draft.model_dump()))
            return RedirectResponse(f"/events/{event.id}?done=created", status_code=303)
        now = daemon.clock.now()
        planned = sorted(
            Reminder(p.due_at, p.channel, p.offset or "") for p in plan_reminders(event, event.notify) if p.due_at > now
        )
    except CalendarError as exc:
        errors = _field_errors(exc)
    except UsageError as exc:
        errors = {"id" if "id" in str(exc) else "": str(exc)}
    return page(
        request,
        "new_event.html",
        viewer.session,
        status=422 if errors else 200,
        locale=viewer.locale,
        values=values,
        errors=errors,
        preview=None if errors else planned,
        statuses=STATUSES,
    )


@router.get("/events/{event_id}")
async def show(request: Request, event_id: str) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return viewer
    daemon = viewer.daemon
    try:
        event = await viewer.readers.run(daemon, get_event, daemon.read_engine, event_id)
    except UsageError as exc:
        return page(request, "refused.html", viewer.session, status=404, locale=viewer.locale, message=str(exc))
    draft = await viewer.readers.run(daemon, stored_draft, daemon.read_engine, event_id)
    line = None
    if draft is None and event.owner == "file":
        # An occurrence is written in the file as its series: that is the line to edit.
        key = series_of(event_id) or event_id
        line = await viewer.readers.run(
            daemon, lambda: file_line(daemon.calendar_path, key, max_bytes=daemon.settings.calendar_max_bytes)
        )
    values = {"start": str(draft.get("start", "")) if draft else "", "timezone": event.timezone, "status": event.status}
    ack = await viewer.readers.run(daemon, active_ack, daemon, event_id)
    return _event_page(request, viewer, event_id, event=event, draft=draft, values=values, line=line, ack=ack)


@router.post("/events/{event_id}")
async def change(request: Request, event_id: str) -> Response:
    allowed = await form_writer(request)
    if isinstance(allowed, Response):
        return allowed
    viewer, fields = allowed
    daemon = viewer.daemon
    try:
        before = await viewer.readers.run(daemon, get_event, daemon.read_engine, event_id)
    except UsageError as exc:
        return page(request, "refused.html", viewer.session, status=404, locale=viewer.locale, message=str(exc))
    draft = await viewer.readers.run(daemon, stored_draft, daemon.read_engine, event_id)
    values = {k: fields.get(k, "").strip() for k in _EDITABLE}
    if draft is None:
        message = (
            feed_owned(event_id, daemon.calendar)
            if before.owner == "feed"
            else f"event {event_id!r} is defined in {daemon.calendar_path.name}; edit the file instead"
        )
        return page(request, "refused.html", viewer.session, status=409, locale=viewer.locale, message=message)
    current = {"start": str(draft.get("start", "")), "timezone": before.timezone, "status": before.status}
    changes = {k: v for k, v in values.items() if v and v != current[k]}
    try:
        if fields.get("action") == "save":
            await update_event(daemon, event_id, EventPatch.model_validate(changes), force=False)
            return RedirectResponse(f"/events/{event_id}?done=saved", status_code=303)
        now = daemon.clock.now()
        preview = await viewer.readers.run(
            daemon, lambda: preview_change(daemon.read_engine, daemon.calendar, before, draft, changes, now=now)
        )
    except (CalendarError, ValidationError) as exc:
        errors = _field_errors(exc)
        return _event_page(
            request, viewer, event_id, event=before, draft=draft, values=values, errors=errors, status=422
        )
    except UsageError as exc:
        errors = {"": str(exc)}
        return _event_page(
            request, viewer, event_id, event=before, draft=draft, values=values, errors=errors, status=409
        )
    return _event_page(request, viewer, event_id, event=before, draft=draft, values=values, preview=preview)
