"""Database-owned events as the user writes them, checked exactly like an event of the calendar file.

A draft is turned into the mapping the calendar file would hold (``start`` is the file's ``at``) and run through
the calendar loader's own event check with the current calendar's zone, defaults and channels, so an unknown
channel, a bad zone, a DST gap or a bad offset is rejected with the very message ``alertd check`` gives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from alertd.calendar.ackopts import MAX_STEPS
from alertd.calendar.load import check_event
from alertd.calendar.schema import Checker
from alertd.calendar.yamlsrc import YamlDoc
from alertd.domain import Calendar, EventSpec
from alertd.errors import CalendarError, CalendarIssue

__all__ = [
    "DRAFT_FIELDS",
    "MAX_LIST",
    "MAX_STEPS",
    "ChannelId",
    "EscalationDraft",
    "EventDraft",
    "EventId",
    "EventIssue",
    "Notes",
    "Offset",
    "Short",
    "Source",
    "Tag",
    "Title",
    "draft_from_mapping",
    "resolve_draft",
]

log = logging.getLogger("alertd.events")

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# Bounds on what the CLI and API store per event: generous for people, small enough that one request cannot
# bloat every message, listing and export of the calendar. Ids match the database column. A constrained str
# also refuses a lone UTF-16 surrogate ("\\ud800" in JSON), which no database or channel could encode.
EventId = Annotated[str, StringConstraints(max_length=200)]
Title = Annotated[str, StringConstraints(max_length=500)]
Notes = Annotated[str, StringConstraints(max_length=10_000)]
Source = Annotated[str, StringConstraints(max_length=2_000)]
Short = Annotated[str, StringConstraints(max_length=64)]
Tag = Annotated[str, StringConstraints(max_length=100)]
ChannelId = Annotated[str, StringConstraints(max_length=100)]
Offset = Annotated[str, StringConstraints(max_length=32)]
MAX_LIST = 50


class EscalationDraft(BaseModel):
    """One ``escalate`` step, as the calendar file writes it: ``{at: 2d, unless: acknowledged, notify: [pager]}``."""

    model_config = ConfigDict(extra="forbid")

    at: Offset
    unless: Short | None = None
    notify: Annotated[list[ChannelId], Field(max_length=MAX_LIST)]
    repeat: Offset | None = None


class EventDraft(BaseModel):
    """A database-owned event as given to the CLI or the API; ``start`` uses the calendar file's ``at`` syntax."""

    model_config = ConfigDict(extra="forbid")

    id: EventId
    title: Title
    start: Short
    timezone: Short | None = None
    all_day: bool | None = None
    status: Short = "confirmed"
    tags: Annotated[list[Tag], Field(max_length=MAX_LIST)] = []
    notes: Notes | None = None
    source: Source | None = None
    notify: Annotated[list[ChannelId], Field(max_length=MAX_LIST)] | None = None
    reminders: Annotated[list[Offset], Field(max_length=MAX_LIST)] | None = None
    # The calendar file's per-event acknowledgement keys; left out, the calendar's defaults apply.
    after_ack: Short | None = None
    escalate: Annotated[list[EscalationDraft], Field(max_length=MAX_STEPS)] | None = None


DRAFT_FIELDS = tuple(EventDraft.model_fields)


@dataclass(frozen=True, slots=True)
class EventIssue(CalendarIssue):
    """A problem with a database-owned event: there is no file line to point at, so it names the event."""

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}: {where}{self.message}"


def _fail(event_id: str, problems: list[tuple[str, str]]) -> CalendarError:
    issues: list[CalendarIssue] = [EventIssue(f"event {event_id!r}", 0, path, message) for path, message in problems]
    return CalendarError(issues)


def draft_from_mapping(data: Mapping[str, Any]) -> EventDraft:
    """Build a draft from untrusted data; unknown keys and wrong types raise a one-line CalendarError."""
    try:
        return EventDraft.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                message = f"unknown field; expected one of: {', '.join(DRAFT_FIELDS)}"
            else:
                message = str(err["msg"])
            problems.append((path, message))
        raise _fail(str(data.get("id", "?")), problems) from None


def _raw(draft: EventDraft, calendar: Calendar, *, lenient: bool) -> dict[str, Any]:
    """The calendar-file mapping of ``draft`` (None values are left out, as the file would)."""
    start = draft.start.strip()
    if draft.all_day is True and not _DATE_ONLY.match(start):
        raise _fail(draft.id, [("start", f"all_day is true but {start!r} has a time: write the date only")])
    if draft.all_day is False and _DATE_ONLY.match(start):
        start += "T00:00"  # a timed event asked for explicitly: midnight local time
    raw: dict[str, Any] = {"id": draft.id, "title": draft.title, "at": start, "status": draft.status}
    if draft.tags:
        raw["tags"] = list(draft.tags)
    for key in ("timezone", "notes", "source", "reminders", "after_ack"):
        value = getattr(draft, key)
        if value is not None:
            raw[key] = value
    if draft.escalate is not None:
        raw["escalate"] = _escalate(draft.escalate, calendar, lenient=lenient)
    if draft.notify is not None:
        notify = list(draft.notify)
        if lenient:
            # On a calendar reload a channel this event names may have gone: it keeps its other channels
            # (and gets the removed one back if the channel returns) instead of blocking the reload.
            notify = [c for c in notify if c in calendar.channels]
        raw["notify"] = notify
    return raw


def _escalate(steps: list[EscalationDraft], calendar: Calendar, *, lenient: bool) -> list[dict[str, Any]]:
    found = [step.model_dump(exclude_none=True) for step in steps]
    if not lenient:
        return found
    # As for ``notify``: a step keeps the channels the reloaded calendar still declares; one left with none goes.
    for step in found:
        step["notify"] = [c for c in step["notify"] if c in calendar.channels]
    return [step for step in found if step["notify"]]


def resolve_draft(
    draft: EventDraft, calendar: Calendar, *, lenient: bool = False
) -> tuple[EventSpec, list[CalendarIssue]]:
    """The event ``draft`` describes under ``calendar``'s zone, defaults and channels, and its warnings.

    Raises CalendarError (naming the event and the field) when the draft is invalid. With ``lenient``, channels
    the calendar no longer declares are dropped rather than rejected (used when the calendar changes).
    """
    raw = _raw(draft, calendar, lenient=lenient)
    ck = Checker(f"event {draft.id!r}", YamlDoc({"events": [raw]}, {}, ()))
    spec = check_event(ck, ("events", 0), raw, calendar.timezone, calendar.defaults, tuple(calendar.channels))
    issues: list[CalendarIssue] = [EventIssue(i.file, 0, _field_path(i.path), i.message, i.severity) for i in ck.issues]
    if spec is None or any(i.severity == "error" for i in issues):
        raise CalendarError(issues or [EventIssue(f"event {draft.id!r}", 0, "", "invalid event")])
    for issue in issues:
        log.warning("%s", issue)
    return replace(spec, owner="db"), issues


def _field_path(path: str) -> str:
    """``events[0].at`` → ``start``: name the draft's field, not the calendar file's key."""
    field = path.removeprefix("events[0]").lstrip(".")
    return "start" + field[2:] if field.startswith("at") else field
