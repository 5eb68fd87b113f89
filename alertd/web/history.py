"""``/history``: every notification, newest first, filtered and paged by keyset; retry and cancel from the page.

Paging continues after the last row's (due_at, id), read from an index in that order, so the thousandth page costs
what the first does however large the outbox grows (no OFFSET). The actions are the API's own
(``/api/v1/notifications/{id}/retry`` and ``/cancel``): same checks, same messages, same metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from alertd.api.deps import Backend
from alertd.api.notifications import cancel_notification, decode_cursor, encode_cursor, retry_notification
from alertd.errors import UsageError
from alertd.storage import NOTIFICATION
from alertd.web.access import form_writer, viewer_of
from alertd.web.render import page

__all__ = ["STATES", "HistoryPage", "read_page", "router"]

router = APIRouter(include_in_schema=False)
STATES = ("pending", "sent", "retrying", "dead", "missed", "cancelled")
PAGE_SIZE = 50
_N = NOTIFICATION.c
# The text filter matches an id, event or error containing it; longer input is not a search anyone typed.
_MAX_TEXT = 100


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: list[Any]
    next_cursor: str | None


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:300]


def read_page(
    engine: sa.Engine,
    *,
    state: str | None = None,
    channel: str | None = None,
    event: str | None = None,
    text: str | None = None,
    cursor: tuple[datetime, str] | None = None,
    limit: int = PAGE_SIZE,
) -> HistoryPage:
    """One page of notifications, newest due first, after ``cursor`` (the last row of the previous page)."""
    query = sa.select(
        _N.id,
        _N.kind,
        _N.event_id,
        _N.channel,
        _N.offset,
        _N.state,
        _N.due_at,
        _N.attempts,
        _N.late,
        _N.sent_at,
        _N.last_error,
    )
    for column, value in ((_N.state, state), (_N.channel, channel), (_N.event_id, event)):
        if value:
            query = query.where(column == value)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            sa.or_(
                _N.id.like(pattern, escape="\\"),
                _N.event_id.like(pattern, escape="\\"),
                _N.last_error.like(pattern, escape="\\"),
            )
        )
    if cursor is not None:
        due, last = cursor
        query = query.where(sa.or_(_N.due_at < due, sa.and_(_N.due_at == due, _N.id < last)))
    query = query.order_by(_N.due_at.desc(), _N.id.desc()).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = list(rows[:limit])
    return HistoryPage(rows=rows, next_cursor=encode_cursor(rows[-1].due_at, rows[-1].id) if more else None)


@router.get("/history")
async def history(
    request: Request,
    state: Annotated[str | None, Query(max_length=20)] = None,
    channel: Annotated[str | None, Query(max_length=100)] = None,
    event: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=_MAX_TEXT)] = None,
    after: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return viewer
    chosen = state if state in STATES else None
    error = ""
    cursor = None
    if after:
        try:
            cursor = decode_cursor(after)
        except ValueError:
            error = "that page link is not valid any more; showing the newest notifications"
    daemon = viewer.daemon
    result = await viewer.readers.run(
        daemon,
        lambda: read_page(
            daemon.read_engine, state=chosen, channel=channel, event=event, text=q or None, cursor=cursor, limit=limit
        ),
    )
    filters: dict[str, str | int] = {
        k: v for k, v in (("state", chosen), ("channel", channel), ("event", event), ("q", q)) if v
    }
    if limit != PAGE_SIZE:
        filters["limit"] = limit
    next_link = f"/history?{urlencode({**filters, 'after': result.next_cursor})}" if result.next_cursor else ""
    return page(
        request,
        "history.html",
        viewer.session,
        locale=viewer.locale,
        rows=result.rows,
        one_line=_one_line,
        states=STATES,
        filters=filters,
        state=chosen or "",
        channel=channel or "",
        event=event or "",
        q=q or "",
        next_link=next_link,
        first_page=cursor is None,
        error=error,
        notice=request.query_params.get("done", "")[:200],
        # Where an action returns to: this very page, filters and position kept (less the previous notice).
        back=f"/history?{urlencode({**filters, **({'after': after} if after else {})})}",
    )


async def _act(request: Request, notification_id: str, action: str) -> Response:
    allowed = await form_writer(request)
    if isinstance(allowed, Response):
        return allowed
    viewer, fields = allowed
    daemon: Backend = viewer.daemon
    try:
        if action == "retry":
            await retry_notification(daemon, notification_id)
        else:
            await cancel_notification(daemon, notification_id)
    except UsageError as exc:
        message = str(exc)
    else:
        message = f"{notification_id}: {'queued for another attempt' if action == 'retry' else 'cancelled'}"
    back = fields.get("back", "/history")
    back = back if back.startswith("/history") and not back.startswith("//") else "/history"
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}{urlencode({'done': message})}", status_code=303)


@router.post("/history/{notification_id:path}/retry")
async def retry(request: Request, notification_id: str) -> Response:
    return await _act(request, notification_id, "retry")


@router.post("/history/{notification_id:path}/cancel")
async def cancel(request: Request, notification_id: str) -> Response:
    return await _act(request, notification_id, "cancel")
