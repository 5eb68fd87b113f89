"""Reading events back from the database and turning rows into :class:`EventSpec` values."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime, time
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from alertd.domain import Escalation, EventSpec
from alertd.planning import event_fingerprint
from alertd.storage.bulk import fetch_where_in
from alertd.storage.models import EventRow
from alertd.timeexpr import Offset, parse_stored_offset, zone

__all__ = ["EVENT", "escalate_values", "event_from_row", "event_values", "load_events"]

EVENT = EventRow.__table__  # type: ignore[attr-defined]
# Rows repeat a handful of offset texts; parsing each once keeps reading 100k events (or a claimed batch) cheap.
_offset = lru_cache(maxsize=1024)(parse_stored_offset)
# The JSON list columns: SQLite gives their text, PostgreSQL lists. Texts repeat ("[]", '["desk-slack"]'), so each
# is decoded once; decoding them per row was a third of reading a claimed batch.
_LISTS = ("tags", "reminders", "notify", "escalate")


@lru_cache(maxsize=4096)
def _text_list(text: str) -> tuple[Any, ...]:
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else ()


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return _text_list(value) if isinstance(value, str) else tuple(value)


@lru_cache(maxsize=1024)
def _time_of_day(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


@lru_cache(maxsize=1024)
def _offsets(texts: tuple[str, ...]) -> tuple[Offset, ...]:
    return tuple(_offset(t) for t in texts)


@lru_cache(maxsize=1024)
def _escalation_text(text: str) -> tuple[Escalation, ...]:
    steps = json.loads(text)
    return tuple(
        Escalation(
            at=_offset(step["at"]),
            notify=tuple(step["notify"]),
            repeat=_offset(step["repeat"]) if step.get("repeat") else None,
        )
        for step in (steps or ())
    )


def _escalations(value: Any) -> tuple[Escalation, ...]:
    if value is None:
        return ()
    return _escalation_text(value if isinstance(value, str) else json.dumps(value))


def escalate_values(steps: Iterable[Escalation]) -> list[dict[str, Any]] | None:
    """The ``escalate`` column of ``steps`` (None for none, as rows written before escalation existed)."""
    found = [{"at": s.at.text, "notify": list(s.notify), "repeat": s.repeat.text if s.repeat else None} for s in steps]
    return found or None


def _local_start(text: str, timezone: str, starts_at: datetime, all_day: bool) -> datetime:
    """The stored wall clock, with ``fold=1`` again when it is the second run of a repeated hour.

    The text has no room for the fold, but the stored instant is exact: when it is not what the wall clock reads
    as on its first run, it is the second (a time written with an offset, such as 01:30-05:00 in New York).
    """
    local = datetime.fromisoformat(text)
    if all_day:
        return local
    used = local - starts_at.replace(tzinfo=None)
    return local if used == local.replace(tzinfo=zone(timezone)).utcoffset() else local.replace(fold=1)


def event_values(event: EventSpec, *, revision: int, now: datetime, fingerprint: str | None = None) -> dict[str, Any]:
    """The column values that store ``event`` (``fingerprint``: its fingerprint, when the caller has it already)."""
    return {
        "id": event.id,
        "title": event.title,
        "local_start": event.local_start.isoformat(),
        "all_day": event.all_day,
        "timezone": event.timezone,
        "starts_at": event.starts_at,
        "status": event.status,
        "tags": list(event.tags),
        "source": event.source,
        "notes": event.notes,
        "reminders": [o.stored for o in event.reminders],
        "notify": list(event.notify),
        "all_day_at": event.all_day_at.strftime("%H:%M"),
        "countdown": event.countdown,
        "owner": event.owner,
        "after_ack": event.after_ack,
        "escalate": escalate_values(event.escalate),
        "fingerprint": event_fingerprint(event) if fingerprint is None else fingerprint,
        "revision": revision,
        "removed": False,
        "updated_at": now,
    }


def event_from_row(row: Any) -> EventSpec:
    """Rebuild an EventSpec from an ``event`` row (a Row or mapping with the table's columns)."""
    return EventSpec(
        id=row.id,
        title=row.title,
        local_start=_local_start(row.local_start, row.timezone, row.starts_at, row.all_day),
        all_day=row.all_day,
        timezone=row.timezone,
        starts_at=row.starts_at,
        status=row.status,
        tags=_strings(row.tags),
        source=row.source,
        notes=row.notes,
        reminders=_offsets(_strings(row.reminders)),
        notify=_strings(row.notify),
        all_day_at=_time_of_day(row.all_day_at),
        countdown=row.countdown,
        owner=row.owner,
        after_ack=row.after_ack,
        escalate=_escalations(row.escalate),
        acknowledged=bool(row.acknowledged),
    )


# An EventSpec's fields (those it is built from) are the event columns of the same names (the draft and
# bookkeeping columns are not read).
_SPEC_NAMES = tuple(f.name for f in fields(EventSpec) if f.init)
_SPEC_COLUMNS = [EVENT.c[name] for name in _SPEC_NAMES]


def load_events(
    conn: sa.Connection, ids: Iterable[str] | None = None, *, include_removed: bool = False
) -> dict[str, EventSpec]:
    """Events by id (all of them when ``ids`` is None)."""
    # Only what an EventSpec holds: the draft (JSON) and bookkeeping columns were a third of the cost per row.
    query = sa.select(*_SPEC_COLUMNS)
    if not include_removed:
        query = query.where(EVENT.c.removed.is_(False))
    if ids is None:
        return {row.id: event_from_row(row) for row in conn.execute(query)}
    # The dispatcher's path, a few hundred events per round, thousands of rounds under load: through the driver.
    rows = fetch_where_in(conn, EVENT, (*_SPEC_NAMES, "removed"), "id", list(dict.fromkeys(ids)), raw=_LISTS)
    return {row.id: event_from_row(row) for row in rows if include_removed or not row.removed}
