"""The calendar file's business-day keys: ``workdays`` (top level or per event) and ``if_closed``.

An event's working-day calendar is its own ``workdays`` or else the file's. :func:`settle_event` applies it once
the event is otherwise valid: a start on a closed day moves by ``if_closed`` (keeping its wall time; the written
date is kept in the event's notes, so messages, the API and ``alertd plan`` show it), and each business-day
offset is counted from the (moved) start into nominal days, which planning then treats like any ``Nd`` offset.
:func:`move_off_closed` and :func:`count_business_days` are those two steps as pure functions, for anything else
that makes events (one occurrence of a recurring series at a time).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath
from alertd.domain import Defaults, EventSpec
from alertd.timeexpr import Offset, day_start, localize, zone
from alertd.workdays import (
    IF_CLOSED,
    IfClosed,
    WorkdayCalendar,
    WorkdayError,
    adjust,
    business_days_from,
    check_region,
    closure,
    weekend_days,
)

__all__ = [
    "MAX_CLOSED",
    "check_default_rule",
    "check_if_closed",
    "check_workdays",
    "count_business_days",
    "move_off_closed",
    "settle_event",
]

_KEYS = ("country", "subdivision", "closed", "weekend")
_EXAMPLE = "{country: US, subdivision: NY, closed: [2025-12-26]}"
# Far more than any office closes (ten years of every day is 3,653), small enough to load in a blink.
MAX_CLOSED = 20_000
_NEEDS = "needs a working-day calendar: add workdays: {country: US} (your country's code)"


def check_workdays(ck: Checker, raw: Any, path: KeyPath) -> WorkdayCalendar | None:
    """``workdays: {country, subdivision?, closed?, weekend?}`` as a WorkdayCalendar, or None after an error."""
    m = ck.mapping(raw, path, _EXAMPLE)
    if m is None:
        return None
    ck.keys(m, path, _KEYS, ("country",))
    errors = ck.error_count
    country = ck.text(m["country"], (*path, "country"), nonempty=True) if "country" in m else None
    subdivision = None
    if m.get("subdivision") is not None:
        subdivision = ck.text(m["subdivision"], (*path, "subdivision"), nonempty=True)
    closed = _closed(ck, m.get("closed"), (*path, "closed"))
    weekend = None
    if m.get("weekend") is not None:
        names = ck.text_list(m["weekend"], (*path, "weekend"), "[sat, sun]")
        try:
            weekend = weekend_days(names) if names is not None else None
        except WorkdayError as exc:
            ck.error((*path, "weekend"), str(exc))
    if country is None or ck.error_count > errors:
        return None
    try:
        code, subdiv = check_region(country, subdivision)
    except WorkdayError as exc:
        ck.error((*path, "subdivision" if "subdivision" in str(exc) else "country"), str(exc))
        return None
    return WorkdayCalendar(code, subdiv, closed, weekend)


def _closed(ck: Checker, raw: Any, path: KeyPath) -> frozenset[date]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        ck.error(path, "must be a list of dates, e.g. [2025-12-26, 2025-12-31]")
        return frozenset()
    if len(raw) > MAX_CLOSED:
        ck.error(path, f"lists {len(raw)} dates; at most {MAX_CLOSED} are allowed")
        return frozenset()
    days: set[date] = set()
    for i, item in enumerate(raw):
        text = item.strip() if isinstance(item, str) else ""
        try:
            # fromisoformat alone would also take 20251226 and week dates (2025-W52-5).
            days.add(date.fromisoformat(text if len(text) == len("2025-12-26") else "-"))
        except ValueError:
            ck.error((*path, i), f"bad date {item!r}: write YYYY-MM-DD, e.g. 2025-12-26")
    return frozenset(days)


def check_if_closed(ck: Checker, raw: Any, path: KeyPath) -> IfClosed | None:
    """``if_closed: previous | next | none``."""
    for rule in IF_CLOSED:
        if raw == rule:
            return rule
    shown = raw if isinstance(raw, str) else repr(raw)
    ck.error(path, f"unknown if_closed {shown!r} {suggest(shown, IF_CLOSED)}")
    return None


def check_default_rule(ck: Checker, defaults: Defaults, workdays_given: bool) -> None:
    """``defaults.if_closed`` other than ``none`` needs the file's ``workdays``: one error, at that key."""
    if defaults.if_closed != "none" and not workdays_given:
        ck.error(("defaults", "if_closed"), f"if_closed: {defaults.if_closed} {_NEEDS} at the top of the file")


def settle_event(
    ck: Checker,
    path: KeyPath,
    event: EventSpec,
    workdays: WorkdayCalendar | None,
    rule: IfClosed,
    *,
    own_reminders: bool,
    own_rule: bool = False,
) -> EventSpec | None:
    """``event`` moved off a closed day by ``rule`` and with its business-day offsets counted, or None after an
    error (a business-day offset or an event's own ``if_closed`` without a working-day calendar, or no business
    day within reach). A default ``if_closed`` without one is :func:`check_default_rule`'s single error."""
    business = [o for o in event.reminders if o.business_days]
    if workdays is None:
        root = ck.doc.data
        if (business or own_rule) and isinstance(root, dict) and root.get("workdays") is not None:
            # The file's workdays is invalid and already reported; a second error per event would bury it.
            return None
        if own_rule and rule != "none":
            ck.error((*path, "if_closed"), f"if_closed: {rule} {_NEEDS} at the top of the file or on this event")
            return None
        if business:
            where = (*path, "reminders") if own_reminders else path
            whose = "" if own_reminders else "the default reminder "
            ck.error(
                where,
                f"{whose}{business[0].text!r} counts business days and {_NEEDS} at the top of the file "
                "or on this event",
            )
            return None
        return event
    try:
        moved = move_off_closed(event, workdays, rule)
    except (WorkdayError, ValueError) as exc:
        ck.error((*path, "at"), f"{exc}; choose another date")
        return None
    try:
        return count_business_days(moved, workdays)
    except (WorkdayError, ValueError) as exc:
        ck.error((*path, "reminders") if own_reminders else path, str(exc))
        return None


def move_off_closed(event: EventSpec, workdays: WorkdayCalendar, rule: IfClosed) -> EventSpec:
    """``event`` (or one occurrence of a series) moved by ``rule`` when its date is closed, at the same wall time,
    with the written date appended to its notes. WorkdayError when no business day is within reach; ValueError
    when the zone skipped the new date."""
    written = event.local_start.date()
    day = adjust(written, workdays, rule)
    if day == written:
        return event
    tz = zone(event.timezone)
    local = datetime.combine(day, event.local_start.time().replace(fold=0))
    # A moved time of day is read afresh in the zone (RFC 5545 gap and fold rules), as a reminder's wall time is.
    starts_at = day_start(day, tz) if event.all_day else localize(local, tz)
    reason = closure(written, workdays)
    note = f"Moved from {written:%a} {written.isoformat()} ({reason} in {workdays.describe()}) by if_closed: {rule}."
    notes = f"{event.notes.rstrip()}\n\n{note}" if event.notes else note
    return replace(event, local_start=local, starts_at=starts_at, notes=notes)


def count_business_days(event: EventSpec, workdays: WorkdayCalendar) -> EventSpec:
    """``event`` with each business-day offset counted from its start date into nominal days (planning then treats
    it as ``Nd``). WorkdayError or ValueError when a count reaches further than ten years."""
    if not any(o.business_days for o in event.reminders):
        return event
    start = event.local_start.date()
    return replace(event, reminders=tuple(_counted(o, start, workdays) for o in event.reminders))


def _counted(offset: Offset, start: date, workdays: WorkdayCalendar) -> Offset:
    if not offset.business_days:
        return offset
    count = offset.business_days if offset.after else -offset.business_days
    landed = business_days_from(start, count, workdays)
    return offset.resolved(abs((landed - start).days))
