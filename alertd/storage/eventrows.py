"""Reading events back from the database and turning rows into :class:`EventSpec` values."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from alertd.domain import Escalation, EventSpec
from alertd.planning import event_fingerprint
from alertd.storage.bulk import driver_execute, read_instant
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


_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)


def _local_start(text: str, timezone: str, starts_at: datetime, all_day: bool) -> datetime:
    """The stored wall clock, with ``fold=1`` again when it is the second run of a repeated hour.

    The text has no room for the fold, but the stored instant is exact: when it is not what the wall clock reads
    as on its first run, it is the second (a time written with an offset, such as 01:30-05:00 in New York).
    """
    local = datetime.fromisoformat(text)
    if all_day:
        return local
    # Both sides as distances from the epoch and the zone asked about the naive wall clock (its first run): the
    # same comparison as with replace(tzinfo=…), whose keyword parsing cost more than the rest of this function.
    used: timedelta = (local - _EPOCH) - (starts_at - _EPOCH_UTC)
    return local if used == zone(timezone).utcoffset(local) else local.replace(fold=1)


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


# An EventSpec's fields (those it is built from) are the event columns of the same names (the draft and
# bookkeeping columns are not read).
_SPEC_NAMES = tuple(f.name for f in fields(EventSpec) if f.init)
_SPEC_COLUMNS = [EVENT.c[name] for name in _SPEC_NAMES]
# EventSpec is a frozen dataclass: its __init__ sets every field through object.__setattr__, which cost more than
# reading the row (the dispatcher reads one event per notification). Events read back are built by filling the
# slots directly: the same object with the same values, as EventSpec has no __post_init__ to run.
_SLOTS = tuple(getattr(EventSpec, name).__set__ for name in _SPEC_NAMES)
# The fields __init__ does not take start at their defaults (the kept fingerprint: none yet).
_UNSET = tuple((getattr(EventSpec, f.name).__set__, f.default) for f in fields(EventSpec) if not f.init)
_new = object.__new__
assert not hasattr(EventSpec, "__post_init__"), "EventSpec gained a __post_init__: build events through __init__"


def _spec(*values: Any) -> EventSpec:
    """An EventSpec of its field values in order (every field given)."""
    event: EventSpec = _new(EventSpec)
    for put, value in zip(_SLOTS, values, strict=True):
        put(event, value)
    for put, default in _UNSET:
        put(event, default)
    return event


def event_from_row(row: Any) -> EventSpec:
    """Rebuild an EventSpec from an ``event`` row (a Row or mapping with the table's columns)."""
    return _spec(
        row.id,
        row.title,
        _local_start(row.local_start, row.timezone, row.starts_at, row.all_day),
        row.all_day,
        row.timezone,
        row.starts_at,
        row.status,
        _strings(row.tags),
        row.source,
        row.notes,
        _offsets(_strings(row.reminders)),
        _strings(row.notify),
        _time_of_day(row.all_day_at),
        row.countdown,
        row.owner,
        row.after_ack,
        _escalations(row.escalate),
        bool(row.acknowledged),
    )


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
    # The dispatcher's path, a few hundred events per round, thousands of rounds under load: through the driver,
    # each row taken apart once, in column order.
    wanted = list(dict.fromkeys(ids))
    found: dict[str, EventSpec] = {}
    for start in range(0, len(wanted), _CHUNK):
        part = tuple(wanted[start : start + _CHUNK])
        rows = driver_execute(conn, _select_in(conn.dialect, len(part)), part, rows=True)[1]
        for row in rows:
            if row[-1] and not include_removed:
                continue
            event = _event_from_cells(*row[:-1])
            found[event.id] = event
    return found


_CHUNK = 500


@lru_cache(maxsize=64)
def _select_in(dialect: sa.Dialect, count: int) -> str:
    """The EventSpec columns and ``removed`` of the events whose id is one of ``count`` parameters."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in (*_SPEC_NAMES, "removed"))
    sql = f"SELECT {names} FROM {quote(EVENT.name)} WHERE id IN ({', '.join(['?'] * count)})"
    return sql if dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def _event_from_cells(
    id: str,
    title: str,
    local_start: str,
    all_day: Any,
    timezone: str,
    starts_at: Any,
    status: str,
    tags: Any,
    source: str | None,
    notes: str | None,
    reminders: Any,
    notify: Any,
    all_day_at: str,
    countdown: Any,
    owner: str,
    after_ack: str,
    escalate: Any,
    acknowledged: Any,
) -> EventSpec:
    """:func:`event_from_row` for the driver's own cells (SQLite's booleans are integers, its instants text)."""
    instant = read_instant(starts_at)
    whole_day = bool(all_day)
    return _spec(
        id,
        title,
        _local_start(local_start, timezone, instant, whole_day),
        whole_day,
        timezone,
        instant,
        status,
        _strings(tags),
        source,
        notes,
        _offsets(_strings(reminders)),
        _strings(notify),
        _time_of_day(all_day_at),
        bool(countdown),
        owner,
        after_ack,
        _escalations(escalate),
        bool(acknowledged),
    )
