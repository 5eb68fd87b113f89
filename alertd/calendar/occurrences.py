"""The occurrences of a feed's events in a window: RRULE and RDATE expanded by python-dateutil's ``rruleset``,
EXDATE removed, RECURRENCE-ID overrides put in place of the occurrences they move, cancel or retitle.

Expansion runs on wall-clock times in the series' own zone (RFC 5545 §3.3.10: "every day at 09:00" stays 09:00
across DST); the caller turns each start into an instant. The rule itself is never expanded by hand.

Why not ``recurring-ical-events``: it pins python-dateutil below 3, whose zone reader cannot read the slim zone
files of the ``tzdata`` package that alertd's differential zone tests read with dateutil 4.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from dateutil.rrule import rruleset, rrulestr
from icalendar import vRecur

__all__ = ["Occurrence", "occurrences", "rules_of"]

# Any zone's wall clock is within this of UTC: the window is widened by it before the exact filter.
_SLACK = timedelta(hours=15)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence: ``component`` holds its properties (the series' own, or its override's), ``start`` its start
    as the feed writes it (a date, a floating time, or an aware one), ``value`` the property the start came from
    (its TZID names the zone), and ``original`` the series' own placing of it (None for a single event)."""

    component: Any
    start: date
    value: Any
    original: date | None


def rules_of(component: Any) -> list[Any]:
    """The RRULEs of a component; one icalendar could not parse raises ValueError (its series is then skipped)."""
    rule = component.get("RRULE")
    found = rule if isinstance(rule, list) else [rule] if rule is not None else []
    if not all(isinstance(r, vRecur) for r in found):
        raise ValueError("an RRULE that is not a valid rule")
    return found


def occurrences(calendar: Any, start: datetime, end: datetime, skipped: list[str]) -> Iterator[Occurrence]:
    """Occurrences that may start within [start, end) (a little more: the caller filters exactly), series by series;
    a series whose rule cannot be read is left out, with a reason in ``skipped``."""
    masters: dict[str, Any] = {}
    overrides: dict[str, list[Any]] = {}
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "")).strip() or _anonymous(component)
        if component.get("RECURRENCE-ID") is not None:
            overrides.setdefault(uid, []).append(component)
        else:
            masters.setdefault(uid, component)  # a second master with the same UID is a broken feed: the first wins
    low, high = start.replace(tzinfo=None) - _SLACK, end.replace(tzinfo=None) + _SLACK
    for uid, master in masters.items():
        moved = overrides.pop(uid, [])
        try:
            if not rules_of(master) and master.get("RDATE") is None:
                yield Occurrence(master, master.get("DTSTART").dt, master.get("DTSTART"), None)
                yield from _lone_overrides(moved)
                continue
            yield from _series(master, moved, low, high)
        except Exception as exc:
            # icalendar and dateutil raise many types on a broken rule or date; one bad series costs only itself.
            skipped.append(f"the series {uid!r}: its recurrence cannot be read ({type(exc).__name__})")
    for moved in overrides.values():
        yield from _lone_overrides(moved)


def _anonymous(component: Any) -> str:
    start = component.get("DTSTART")
    return f"{component.get('SUMMARY', '')}|{start.to_ical().decode() if start is not None else ''}"


def _lone_overrides(moved: list[Any]) -> Iterator[Occurrence]:
    """Overrides without their series in the feed (a feed that publishes only the changed occurrence)."""
    for component in moved:
        value = component.get("DTSTART")
        if value is not None:
            yield Occurrence(component, value.dt, value, component.get("RECURRENCE-ID").dt)


def _series(master: Any, moved: list[Any], low: datetime, high: datetime) -> Iterator[Occurrence]:
    value = master.get("DTSTART")
    first = value.dt
    all_day = not isinstance(first, datetime)
    tz = None if all_day else first.tzinfo
    wall = datetime.combine(first, time()) if all_day else first.replace(tzinfo=None)
    rules = rruleset()
    rules.rdate(wall)  # DTSTART is the first occurrence (RFC 5545 §3.8.5.3), whether or not the rule makes it
    for rule in rules_of(master):
        parsed = rrulestr(_rule_text(rule, tz, all_day), dtstart=wall)
        if isinstance(parsed, rruleset):
            raise ValueError("one RRULE holds several rules")
        rules.rrule(parsed)
    for moment in _dates(master.get("RDATE"), tz):
        rules.rdate(moment if isinstance(moment, datetime) else datetime.combine(moment, time()))
    excluded_days: set[date] = set()
    for moment in _dates(master.get("EXDATE"), tz):
        if isinstance(moment, datetime):
            rules.exdate(moment)
        elif all_day:
            rules.exdate(datetime.combine(moment, time()))
        else:
            excluded_days.add(moment)
    by_original: dict[datetime, Any] = {}
    for component in moved:
        for key in _dates(component.get("RECURRENCE-ID"), tz)[:1]:
            by_original[key if isinstance(key, datetime) else datetime.combine(key, time())] = component
    for moment in rules:
        if moment >= high:
            break
        if moment < low or moment.date() in excluded_days:
            continue
        original = moment.date() if all_day else moment
        override = by_original.pop(moment, None)
        if override is not None and override.get("DTSTART") is not None:
            yield Occurrence(override, override.get("DTSTART").dt, override.get("DTSTART"), original)
        else:
            yield Occurrence(master, original if all_day else moment.replace(tzinfo=tz), value, original)
    # An override of an occurrence the rule no longer makes (or one past the window's reach) still happens.
    for key, component in by_original.items():
        if low <= key < high and component.get("DTSTART") is not None:
            original = key.date() if all_day else key
            yield Occurrence(component, component.get("DTSTART").dt, component.get("DTSTART"), original)


def _rule_text(rule: Any, tz: tzinfo | None, all_day: bool) -> str:
    """The rule as RRULE text, its UNTIL turned into the series' wall clock (dateutil wants it like DTSTART)."""
    parts = dict(rule)
    until = parts.pop("UNTIL", None)
    text: str = type(rule)(parts).to_ical().decode()
    if until:
        moment = until[0]
        if isinstance(moment, datetime):
            moment = _wall(moment, tz)
        else:
            moment = datetime.combine(moment, time(23, 59, 59) if not all_day else time())
        text += f";UNTIL={moment:%Y%m%dT%H%M%S}"
    return "RRULE:" + text


def _wall(moment: datetime, tz: tzinfo | None) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(tz or UTC).replace(tzinfo=None)


def _dates(prop: Any, tz: tzinfo | None) -> list[date]:
    """The dates or wall-clock times (in the series' zone) of an RDATE, EXDATE or RECURRENCE-ID property."""
    found: list[date] = []
    for item in prop if isinstance(prop, list) else [prop] if prop is not None else []:
        for entry in getattr(item, "dts", None) or [item]:
            moment = getattr(entry, "dt", None)
            if isinstance(moment, datetime):
                found.append(_wall(moment, tz))
            elif isinstance(moment, date):
                found.append(moment)
    return found
