"""What a change to a database-owned event will send, worked out before it is saved: the change notice and the
reminders added and cancelled. Nothing is written; the same draft rules as the API decide what is valid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alertd.calendar import draft_from_mapping, load_yaml, resolve_draft
from alertd.domain import Calendar, EventSpec
from alertd.errors import CalendarError, FileReadError
from alertd.files import read_text
from alertd.planning import plan_reminders
from alertd.storage import ACTIVE_STATES, EVENT, NOTIFICATION

__all__ = ["ChangePreview", "Reminder", "file_line", "preview_change", "stored_draft"]

_N = NOTIFICATION.c


@dataclass(frozen=True, slots=True, order=True)
class Reminder:
    due_at: datetime
    channel: str
    offset: str


@dataclass(frozen=True, slots=True)
class ChangePreview:
    event: EventSpec
    # Channels that get a change notice (empty when neither time nor status changes).
    notice_to: tuple[str, ...]
    added: list[Reminder]
    cancelled: list[Reminder]


def stored_draft(engine: sa.Engine, event_id: str) -> dict[str, Any] | None:
    """The draft a database-owned event was made from (None for a file's event or an unknown id)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(EVENT.c.draft, EVENT.c.owner).where(EVENT.c.id == event_id, EVENT.c.removed.is_(False))
        ).one_or_none()
    if row is None or row.owner != "db" or row.draft is None:
        return None
    return dict(row.draft)


def _queued(engine: sa.Engine, event_id: str) -> set[Reminder]:
    query = sa.select(_N.due_at, _N.channel, _N.offset).where(
        _N.event_id == event_id, _N.kind == "reminder", _N.state.in_(ACTIVE_STATES)
    )
    with engine.connect() as conn:
        return {Reminder(r.due_at, r.channel, r.offset or "") for r in conn.execute(query)}


def preview_change(
    engine: sa.Engine,
    calendar: Calendar,
    before: EventSpec,
    draft: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    now: datetime,
) -> ChangePreview:
    """The event after ``changes`` and what saving them sends; CalendarError (with field paths) when invalid."""
    merged = dict(draft) | dict(changes)
    if "start" in changes and "all_day" not in changes:
        merged["all_day"] = None  # as the API does: a new start says for itself whether it is a date or a time
    after, _ = resolve_draft(draft_from_mapping(merged), calendar)
    planned = {
        Reminder(p.due_at, p.channel, p.offset or "") for p in plan_reminders(after, after.notify) if p.due_at > now
    }
    queued = _queued(engine, before.id)
    changed = (after.starts_at, after.status, after.all_day) != (before.starts_at, before.status, before.all_day)
    return ChangePreview(
        event=after,
        notice_to=tuple(after.notify or before.notify) if changed else (),
        added=sorted(planned - queued),
        cancelled=sorted(queued - planned),
    )


def file_line(path: Path, event_id: str, *, max_bytes: int) -> int | None:
    """The line of ``event_id``'s ``id:`` key in the calendar file, or None when it cannot be read or found."""
    try:
        doc = load_yaml(read_text(path, max_bytes=max_bytes), file=path.name)
    except (CalendarError, FileReadError, OSError, ValueError):
        return None
    events = doc.data.get("events") if isinstance(doc.data, dict) else None
    for index, item in enumerate(events if isinstance(events, list) else []):
        if isinstance(item, dict) and item.get("id") == event_id:
            return doc.line(("events", index, "id"))
    return None
