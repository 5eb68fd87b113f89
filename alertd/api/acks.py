"""``/api/v1/events/{id}/ack``: acknowledge an event (or one occurrence), withdraw it, read its history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from alertd.api.auth import ReadAccess, WriteAccess
from alertd.api.deps import Backend, DaemonDep, ReadersDep, run_db
from alertd.api.schemas import error_responses
from alertd.storage import AckRecord, SyncReport, ack_event, ack_json, acknowledgements, unack_event

__all__ = ["AckBody", "AckOut", "UnackBody", "router"]

router = APIRouter(
    prefix="/events", tags=["acknowledgements"], responses=error_responses(400, 401, 403, 404, 409, 422, 503)
)
EventId = Annotated[
    str, Path(description="The event's id, or one occurrence's (truce-expiry@20251110).", max_length=300)
]


class AckBody(BaseModel):
    by: str = Field(min_length=1, max_length=200, description="Who acknowledges; shown to the team.")
    note: str | None = Field(default=None, max_length=2000, description="A line for the team.")


class UnackBody(BaseModel):
    by: str = Field(min_length=1, max_length=200, description="Who withdraws the acknowledgement.")


class AckOut(BaseModel):
    event_id: str
    by: str
    at: str | None
    via: str
    note: str | None
    revoked_at: str | None
    revoked_by: str | None
    changed: bool = Field(default=True, description="False when the event was already acknowledged.")

    @classmethod
    def of(cls, record: AckRecord, *, changed: bool = True) -> AckOut:
        data: dict[str, Any] = ack_json(record)
        return cls(**data, changed=changed)


def _changed(daemon: Backend, action: str, report: SyncReport) -> None:
    daemon.metrics.api_writes.labels(action).inc()
    daemon.metrics.cancelled(report.cancelled_by)
    daemon.dispatcher.kick.set()


@router.post("/{event_id}/ack", response_model=AckOut, dependencies=[WriteAccess])
async def ack(daemon: DaemonDep, event_id: EventId, body: AckBody) -> AckOut:
    """Acknowledge the event: its reminders (with ``after_ack: stop``) and escalation steps stop, and each of its
    channels is told once. Acknowledging again changes nothing (``changed`` is false)."""
    calendar, now = daemon.calendar, daemon.clock.now()
    record, new, report = await run_db(
        daemon,
        lambda: ack_event(daemon.engine, calendar, event_id=event_id, by=body.by, via="api", now=now, note=body.note),
    )
    if new:
        _changed(daemon, "ack", report)
        daemon.metrics.acknowledgements.labels("api").inc()
    return AckOut.of(record, changed=new)


async def _unack(daemon: Backend, event_id: str, by: str) -> AckOut:
    calendar, now = daemon.calendar, daemon.clock.now()
    record, report = await run_db(
        daemon, lambda: unack_event(daemon.engine, calendar, event_id=event_id, by=by, now=now)
    )
    _changed(daemon, "unack", report)
    return AckOut.of(record)


@router.delete("/{event_id}/ack", response_model=AckOut, dependencies=[WriteAccess])
async def unack(daemon: DaemonDep, event_id: EventId, by: str = "api") -> AckOut:
    """Withdraw the acknowledgement (``?by=NAME``): reminders and escalation steps still ahead come back."""
    return await _unack(daemon, event_id, by)


@router.post("/{event_id}/unack", response_model=AckOut, dependencies=[WriteAccess])
async def unack_post(daemon: DaemonDep, event_id: EventId, body: UnackBody) -> AckOut:
    """The same as ``DELETE …/ack``, for clients that cannot send a DELETE."""
    return await _unack(daemon, event_id, body.by)


@router.get("/{event_id}/ack", response_model=list[AckOut], dependencies=[ReadAccess])
async def ack_history(daemon: DaemonDep, readers: ReadersDep, event_id: EventId) -> list[AckOut]:
    """Every acknowledgement of the event, withdrawn ones included, oldest first."""

    def read() -> list[AckRecord]:
        with daemon.read_engine.connect() as conn:
            return acknowledgements(conn, event_id)

    return [AckOut.of(r) for r in await readers.run(daemon, read)]
