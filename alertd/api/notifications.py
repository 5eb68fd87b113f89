"""``/api/v1/notifications``: the outbox, filtered and paged; retry a dead or missed one, cancel a queued one."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Query

from alertd.api.auth import ReadAccess, WriteAccess
from alertd.api.deps import Backend, DaemonDep, ReadersDep, run_db
from alertd.api.schemas import NotificationKind, NotificationOut, NotificationPage, NotificationState, error_responses
from alertd.clock import utc
from alertd.errors import ConflictError, NotFoundError
from alertd.storage import NOTIFICATION, cancel_one, requeue

__all__ = ["decode_cursor", "encode_cursor", "router"]

router = APIRouter(prefix="/notifications", tags=["notifications"], responses=error_responses(400, 401, 403, 422, 503))
NotificationId = Annotated[str, Path(description="The notification's id (its idempotency key).")]
_N = NOTIFICATION.c
_COLUMNS = (
    _N.id,
    _N.kind,
    _N.event_id,
    _N.channel,
    _N.offset,
    _N.state,
    _N.due_at,
    _N.next_at,
    _N.expires_at,
    _N.attempts,
    _N.late,
    _N.sent_at,
    _N.last_error,
)


def encode_cursor(due_at: datetime, id: str) -> str:
    """An opaque position after (due_at, id): keyset paging stays correct while rows are added."""
    raw = json.dumps([due_at.isoformat(), id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position in ``cursor``; ValueError when it was not made by :func:`encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, id = json.loads(raw)
        if not isinstance(due, str) or not isinstance(id, str):
            raise ValueError(cursor)
        return utc(datetime.fromisoformat(due)), id
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError, OverflowError):
        raise ValueError("bad cursor") from None


def _page(daemon: Backend, filters: list[sa.ColumnElement[bool]], limit: int) -> NotificationPage:
    query = sa.select(*_COLUMNS).where(*filters).order_by(_N.due_at, _N.id).limit(limit + 1)
    with daemon.read_engine.begin() as conn:
        rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].due_at, rows[-1].id) if more else None
    return NotificationPage(items=[NotificationOut.of(r) for r in rows], next_cursor=cursor)


@router.get("", response_model=NotificationPage, dependencies=[ReadAccess], responses=error_responses(400))
async def list_notifications(
    daemon: DaemonDep,
    readers: ReadersDep,
    state: Annotated[NotificationState | None, Query(description="Only this state.")] = None,
    channel: Annotated[str | None, Query(description="Only this channel id.")] = None,
    event: Annotated[str | None, Query(description="Only this event id.")] = None,
    kind: Annotated[NotificationKind | None, Query(description="Only this kind.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many per page.")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> NotificationPage:
    """Notifications in due order (then id), filtered; page with ``next_cursor``."""
    filters: list[sa.ColumnElement[bool]] = []
    for column, value in ((_N.state, state), (_N.channel, channel), (_N.event_id, event), (_N.kind, kind)):
        if value is not None:
            filters.append(column == value)
    if cursor is not None:
        try:
            due, last = decode_cursor(cursor)
        except ValueError:
            raise HTTPException(400, "bad cursor: pass next_cursor from the previous page unchanged") from None
        filters.append(sa.or_(_N.due_at > due, sa.and_(_N.due_at == due, _N.id > last)))
    return await readers.run(daemon, _page, daemon, filters, limit)


def _one(daemon: Backend, id: str) -> Any:
    with daemon.engine.connect() as conn:
        return conn.execute(sa.select(*_COLUMNS).where(_N.id == id)).one_or_none()


def _retry(daemon: Backend, id: str, now: datetime) -> Any:
    with daemon.engine.begin() as conn:
        row = conn.execute(sa.select(_N.state, _N.expires_at).where(_N.id == id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no notification {id!r}")
        if row.state not in ("dead", "missed"):
            raise ConflictError(f"notification {id!r} is {row.state}; only dead or missed ones can be retried")
        if not requeue(conn, id, now=now):
            raise ConflictError(f"notification {id!r} can no longer be sent: its event has already started")
    return _one(daemon, id)


def _cancel(daemon: Backend, id: str, now: datetime) -> Any:
    with daemon.engine.begin() as conn:
        state = conn.execute(sa.select(_N.state).where(_N.id == id)).scalar_one_or_none()
        if state is None:
            raise NotFoundError(f"no notification {id!r}")
        if not cancel_one(conn, id, now=now, reason="cancelled through the API"):
            raise ConflictError(f"notification {id!r} is {state}; only pending or retrying ones can be cancelled")
    return _one(daemon, id)


_CHANGE_ERRORS = error_responses(404, 409)


@router.post(
    "/{notification_id}/retry", response_model=NotificationOut, dependencies=[WriteAccess], responses=_CHANGE_ERRORS
)
async def retry_notification(daemon: DaemonDep, notification_id: NotificationId) -> NotificationOut:
    """Queue a dead or missed notification for an attempt now (same id, so receivers can deduplicate)."""
    row = await run_db(daemon, _retry, daemon, notification_id, daemon.clock.now())
    daemon.metrics.api_writes.labels("retry-notification").inc()
    daemon.dispatcher.kick.set()
    return NotificationOut.of(row)


@router.post(
    "/{notification_id}/cancel", response_model=NotificationOut, dependencies=[WriteAccess], responses=_CHANGE_ERRORS
)
async def cancel_notification(daemon: DaemonDep, notification_id: NotificationId) -> NotificationOut:
    """Cancel a notification that has not been sent yet (pending or retrying)."""
    row = await run_db(daemon, _cancel, daemon, notification_id, daemon.clock.now())
    daemon.metrics.api_writes.labels("cancel-notification").inc()
    daemon.metrics.cancelled({(row.kind, row.channel): 1})
    return NotificationOut.of(row)
