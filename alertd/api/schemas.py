"""Request and response bodies of the HTTP API; every instant is written ``2025-11-10T05:00:00Z`` (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from alertd.calendar import MAX_LIST, MAX_STEPS, ChannelId, EscalationDraft, Notes, Offset, Short, Source, Tag, Title
from alertd.domain import EventSpec, start_text

__all__ = [
    "NOTIFICATION_STATES",
    "CalendarStatus",
    "ErrorBody",
    "EventOut",
    "EventPatch",
    "Health",
    "IssueOut",
    "MoveBody",
    "NotificationOut",
    "NotificationPage",
    "NotificationState",
    "PlanItem",
    "PlanOut",
    "Readiness",
    "ReadinessCheck",
    "error_responses",
    "iso",
]

NotificationState = Literal["pending", "sending", "retrying", "sent", "dead", "cancelled", "missed"]
NOTIFICATION_STATES: tuple[str, ...] = ("pending", "sending", "retrying", "sent", "dead", "cancelled", "missed")
NotificationKind = Literal["reminder", "countdown", "change", "test", "admin", "ack", "escalation"]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a one-line message, and structured detail when there is more to say."""

    error: str
    detail: JsonValue = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give, all with the :class:`ErrorBody` shape."""
    return {status: {"model": ErrorBody, "description": "Error"} for status in statuses}


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessCheck(BaseModel):
    ok: bool
    error: str | None = None


class FeedHealth(BaseModel):
    """One calendar feed as last refreshed (by any replica); a failing feed's last good copy stays in use."""

    ok: bool
    error: str | None = None
    failing_since: str | None = None
    last_success: str | None = None
    has_copy: bool = False


class Readiness(BaseModel):
    """``ready`` is true when every check passed; a rejected calendar reload does not make the daemon unready."""

    ready: bool
    failed: list[str]
    checks: dict[str, ReadinessCheck]
    calendar_file: str
    calendar_events: int | None = None
    last_reload_error: str | None = Field(
        default=None, description="Why the newest calendar file was rejected; the last good version still runs."
    )
    tzdata: str = Field(description="IANA version of the time-zone database in use, e.g. 2026f (ALERTD_TZDATA).")
    tzdata_source: str = Field(description="Where the zone database comes from: package (pinned) or system.")
    feeds: dict[str, FeedHealth] = Field(
        default_factory=dict,
        description="Calendar feeds by source id. A failing feed does not make the daemon unready: its last good "
        "copy stays in use.",
    )


class IssueOut(BaseModel):
    """One problem found in the calendar file."""

    line: int
    path: str = Field(description="Where in the file, e.g. events[2].at; empty for the whole file.")
    message: str
    severity: Literal["error", "warning"]


class CalendarStatus(BaseModel):
    """The running calendar, and why the newest file was rejected (if it was). Needs a read token."""

    file: str
    events: int
    channels: int
    last_reload_ok: bool
    last_reload_error: str | None = Field(default=None, description="The same one-line summary /readyz shows.")
    issues: list[IssueOut] = Field(
        default_factory=list,
        description="Every problem of the rejected file; values from ${VAR} and *_file keys are never quoted.",
    )


class EventOut(BaseModel):
    """An event as stored. ``read_only`` events are provisioned by the calendar ``file`` or come from a calendar
    ``feed`` (a source id), and are edited there."""

    id: str
    title: str
    start: str = Field(
        description="Local start in the calendar file's syntax: a date, or a date and time (with its UTC offset "
        "when it is the second run of a repeated hour)."
    )
    all_day: bool
    timezone: str
    starts_at: str
    status: str
    tags: list[str]
    source: str | None
    notes: str | None
    reminders: list[str]
    notify: list[str]
    countdown: bool
    owner: str
    read_only: bool
    file: str | None
    feed: str | None = None
    acknowledged: bool = Field(default=False, description="Someone acknowledged it (see /events/{id}/ack).")

    @classmethod
    def of(cls, event: EventSpec, *, calendar_file: str) -> EventOut:
        provisioned = event.owner == "file"
        read_only = event.owner in ("file", "feed")
        return cls(
            id=event.id,
            title=event.title,
            start=start_text(event),
            all_day=event.all_day,
            timezone=event.timezone,
            starts_at=iso(event.starts_at),
            status=event.status,
            tags=list(event.tags),
            source=event.source,
            notes=event.notes,
            reminders=[o.text for o in event.reminders],
            notify=list(event.notify),
            countdown=event.countdown,
            owner=event.owner,
            read_only=read_only,
            feed=event.id.partition(":")[0] if event.owner == "feed" else None,
            file=calendar_file if provisioned else None,
            acknowledged=event.acknowledged,
        )


class EventPatch(BaseModel):
    """Fields to change on a database-owned event; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    start: Short | None = None
    timezone: Short | None = None
    all_day: bool | None = None
    status: Short | None = None
    tags: Annotated[list[Tag], Field(max_length=MAX_LIST)] | None = None
    notes: Notes | None = None
    source: Source | None = None
    notify: Annotated[list[ChannelId], Field(max_length=MAX_LIST)] | None = None
    reminders: Annotated[list[Offset], Field(max_length=MAX_LIST)] | None = None
    after_ack: Short | None = None
    escalate: Annotated[list[EscalationDraft], Field(max_length=MAX_STEPS)] | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class MoveBody(BaseModel):
    """A new start, in the calendar file's syntax, and optionally a new zone."""

    model_config = ConfigDict(extra="forbid")

    start: Short
    timezone: Short | None = None
    # A start in the past is refused unless forced: usually a typo, and it would drop every reminder.
    force: bool = False


class NotificationOut(BaseModel):
    id: str
    kind: str
    event_id: str | None
    channel: str
    offset: str | None
    state: str
    due_at: str
    next_at: str
    expires_at: str | None
    attempts: int
    late: bool
    sent_at: str | None
    # On a sent notification: who did not get it and why ("refused: a@x (550 …)"); partial says so.
    last_error: str | None
    partial: bool

    @classmethod
    def of(cls, row: Any) -> NotificationOut:
        return cls(
            id=row.id,
            kind=row.kind,
            event_id=row.event_id,
            channel=row.channel,
            offset=row.offset,
            state=row.state,
            due_at=iso(row.due_at),
            next_at=iso(row.next_at),
            expires_at=iso(row.expires_at) if row.expires_at else None,
            attempts=row.attempts,
            late=row.late,
            sent_at=iso(row.sent_at) if row.sent_at else None,
            last_error=row.last_error,
            partial=row.state == "sent" and row.last_error is not None,
        )


class NotificationPage(BaseModel):
    """One page, in due order; pass ``next_cursor`` as ``cursor`` for the next one (null: this was the last)."""

    items: list[NotificationOut]
    next_cursor: str | None


class PlanItem(BaseModel):
    id: str
    kind: str
    event_id: str | None
    channel: str
    due_at: str
    local_due_at: str
    offset: str | None
    title: str
    text: str


class PlanOut(BaseModel):
    start: str
    until: str
    items: list[PlanItem]
