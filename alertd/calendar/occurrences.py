"""The occurrences of a feed's events in a window, expanded by ``recurring-ical-events``: RRULE and RDATE, EXDATE,
RECURRENCE-ID overrides (and their SEQUENCE) put in place of the occurrences they move, cancel or retitle.

The library expands on the series' own wall clock (RFC 5545: "every day at 09:00" stays 09:00 across DST); the
caller turns each start into an instant. Series are expanded one at a time, each over the window only, so the
caller's occurrence bound stops the work; what one series can yield in a window is bounded by
:func:`repeats_too_often`, which the caller uses to drop runaway rules before expanding anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from icalendar import vRecur
from recurring_ical_events import EventAdapter, Series
from recurring_ical_events import Occurrence as LibraryOccurrence

__all__ = ["Occurrence", "occurrences", "repeats_too_often", "rules_of"]

# Any zone's wall clock is within this of UTC: the library compares floating times and dates as if in UTC, so the
# window is widened by it and the caller filters each start exactly.
_SLACK = timedelta(hours=15)
_TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY"})


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence: ``component`` holds its properties (the series' own, or its override's), ``start`` its start
    as the feed writes it (a date, a floating time, or an aware one), ``value`` the property the start came from
    (its TZID names the zone), and ``original`` the series' own placing of it on the series' wall clock (its
    RECURRENCE-ID; None for a single event)."""

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


def repeats_too_often(rule: Any) -> bool:
    """Whether a rule makes more than one occurrence an hour (24 a day): every minute or second, or an hourly or
    daily rule multiplied by BYMINUTE/BYSECOND lists. Such a series is no calendar people read, and expanding it
    over a long horizon would cost minutes and gigabytes."""
    freq = {str(f).upper() for f in rule.get("FREQ", [])}
    if freq & _TOO_FREQUENT:
        return True
    per_hour = len(rule.get("BYMINUTE", [])) or 1
    per_hour *= len(rule.get("BYSECOND", [])) or 1
    if "HOURLY" in freq:
        return per_hour > 1
    return (len(rule.get("BYHOUR", [])) or 1) * per_hour > 24


def occurrences(calendar: Any, start: datetime, end: datetime, skipped: list[str]) -> Iterator[Occurrence]:
    """Occurrences that may start within [start, end) (a little more: the caller filters exactly), series by series;
    a series whose recurrence cannot be read is left out, with a reason in ``skipped``."""
    groups: dict[str, list[Any]] = {}
    for component in calendar.walk("VEVENT"):
        groups.setdefault(_key(component), []).append(component)
    low, high = start - _SLACK, end + _SLACK
    for uid, components in groups.items():
        if len(components) == 1 and _single(components[0]):
            # Most of a feed: nothing to expand, and a library series for each adds half again to the reading.
            value = components[0].get("DTSTART")
            yield Occurrence(components[0], value.dt, value, None)
            continue
        try:
            for component in components:
                rules_of(component)
            yield from _series(components, low, high)
        except Exception as exc:
            # icalendar, dateutil and the library raise many types on a broken rule or date; one bad series costs
            # only itself.
            skipped.append(f"the series {uid!r}: its recurrence cannot be read ({type(exc).__name__})")


def _key(component: Any) -> str:
    uid = str(component.get("UID", "")).strip()
    if uid:
        return uid
    start = component.get("DTSTART")
    return f"{component.get('SUMMARY', '')}|{start.to_ical().decode() if start is not None else ''}"


def _single(component: Any) -> bool:
    return component.get("DTSTART") is not None and not any(
        component.get(name) is not None for name in ("RRULE", "RDATE", "RECURRENCE-ID")
    )


class _Event(EventAdapter):  # type: ignore[misc]
    """The library's VEVENT adapter, holding on to the component it reads."""

    def __init__(self, component: Any) -> None:
        super().__init__(component)
        self.component = component


class _Found(LibraryOccurrence):  # type: ignore[misc]
    """The library's occurrence, keeping its component and original placing: copying the component for each
    occurrence (the library's ``as_component``) cost half of a feed's expansion."""

    def __init__(self, adapter: _Event, start: date | None = None, end: Any = None, sequence: int = -1) -> None:
        super().__init__(adapter, start, end, sequence)
        self.component = adapter.component
        # The library passes no start for an override (it stands where its RECURRENCE-ID says); a start it passes
        # was made by the rule, shifted by a THISANDFUTURE override's move when one applies.
        moved = adapter.component.get("RECURRENCE-ID")
        self.original: Any = moved.dt if start is None else start - adapter.move_recurrences_by


class _Series(Series):  # type: ignore[misc]
    occurrence = _Found


def _series(components: list[Any], low: datetime, high: datetime) -> Iterator[Occurrence]:
    master = next((c for c in components if c.get("RECURRENCE-ID") is None), None)
    first = None if master is None or master.get("DTSTART") is None else master.get("DTSTART").dt
    tz = first.tzinfo if isinstance(first, datetime) else None
    for found in _Series([_Event(_without_end(c)) for c in components]).between(low, high):
        value = found.component.get("DTSTART")
        yield Occurrence(found.component, found.start, value, _original(found.original, tz))


def _without_end(component: Any) -> Any:
    """A copy without DTEND and DURATION: alertd plans starts only, and from an end the library would start an
    event whose end comes before its start at that end, and a dated event with a timed end at midnight."""
    copy = component.copy()
    for name in ("DTEND", "DURATION"):
        copy.pop(name, None)
    return copy


def _original(moment: Any, tz: tzinfo | None) -> date | None:
    """A RECURRENCE-ID on the series' wall clock: an override naming its occurrence in UTC (as Google writes) keeps
    the date the series gives that occurrence."""
    if not isinstance(moment, date):
        return None
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return (moment.astimezone(tz) if tz is not None else moment).replace(tzinfo=None)
    return moment
