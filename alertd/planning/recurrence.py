"""Occurrences of recurring events in a bounded window: pure functions of the calendar and the window.

Every occurrence is an ordinary :class:`~alertd.domain.EventSpec` whose id is ``<event-id>@YYYYMMDD``, the local
date the rule gives it, so a moved occurrence keeps its id and everything downstream (planning, change notices,
history, the API) treats it as one event. The rule runs in the event's wall time (python-dateutil) and each wall
time is placed in the zone by RFC 5545 §3.3.5 (:func:`alertd.timeexpr.localize`): "every day at 09:00" stays 09:00
across daylight saving time, and a 02:30 that a spring-forward night skips is read with the offset from before.
A series with a working-day calendar has ``if_closed`` and ``Nbd`` offsets applied to each occurrence on its own
(:mod:`alertd.planning.closedays`); the id keeps the date the rule gives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

from alertd.calendar import build_rule
from alertd.domain import Calendar, EventSpec, Series
from alertd.planning.closedays import landing_day, offset_reach, scan_bounds, settle_occurrence
from alertd.timeexpr import day_start, localize, zone

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "SERIES_MARK",
    "expand",
    "occurrence",
    "occurrence_id",
    "series_id",
    "series_lag",
    "series_lead",
    "with_occurrences",
]

DEFAULT_HORIZON_DAYS = 400
# File event ids are [a-z0-9-]+, so an id holding this mark is always an occurrence.
SERIES_MARK = "@"
# A day's slack on either side: the window is compared in UTC, the rule runs in wall time.
_SLACK = timedelta(days=1)

log = logging.getLogger("alertd.recurrence")


def occurrence_id(series: str, day: date) -> str:
    return f"{series}{SERIES_MARK}{day:%Y%m%d}"


def series_id(event_id: str) -> str | None:
    """The series an occurrence id belongs to, or None for an ordinary event."""
    head, mark, _ = event_id.partition(SERIES_MARK)
    return head if mark else None


def series_lag(series: Series) -> timedelta:
    """How long after an occurrence's start it still matters: a day, plus its latest follow-up reminder."""
    after = [offset_reach(series, o) for o in series.event.reminders if o.after]
    return _SLACK + max(after, default=timedelta())


def series_lead(series: Series, countdown_days: int = 0) -> timedelta:
    """How long before an occurrence's start it is first heard of: its earliest reminder or countdown line."""
    before = [offset_reach(series, o) for o in series.event.reminders if not o.after]
    return _SLACK + max([*before, timedelta(days=countdown_days)])


def occurrence(series: Series, local: datetime) -> EventSpec | None:
    """The occurrence the rule places at the wall time ``local``, with its override applied and settled on business
    days; None (logged) when the zone skipped that day or no business day is within reach."""
    event, day = series.event, local.date()
    tz = zone(event.timezone)
    try:
        starts_at = day_start(day, tz) if event.all_day else localize(local, tz)
    except ValueError:
        log.warning("occurrence %s skipped: %s has no such day", occurrence_id(event.id, day), event.timezone)
        return None
    found = replace(event, id=occurrence_id(event.id, day), local_start=local, starts_at=starts_at)
    change = series.overrides.get(day)
    if change is None:
        return settle_occurrence(series, found, moved_by_hand=False)
    by_hand = False
    if change.local_start is not None and change.starts_at is not None and change.all_day is not None:
        found = replace(found, local_start=change.local_start, starts_at=change.starts_at, all_day=change.all_day)
        by_hand = True
    found = replace(
        found,
        status=change.status or found.status,
        title=change.title or found.title,
        notes=change.notes if change.notes is not None else found.notes,
    )
    return settle_occurrence(series, found, moved_by_hand=by_hand)


def expand(series: Series, *, start: datetime, end: datetime) -> Iterator[EventSpec]:
    """The occurrences of ``series`` that land (moved off a closed day, before any override moves them) in
    ``[start, end]`` (UTC), without those in ``except:``."""
    event = series.event
    tz = zone(event.timezone)
    rule = build_rule(series.rule, event.local_start, tz)
    # Compared as wall times with a day's slack; the exact UTC bounds are checked per occurrence.
    first = start.astimezone(tz).replace(tzinfo=None) - _SLACK
    last = end.astimezone(tz).replace(tzinfo=None) + _SLACK
    first, last = scan_bounds(series, first, last)
    for local in rule.xafter(first, inc=True) if first > event.local_start else rule:
        if local > last:
            return
        if local.date() in series.exdates:
            continue
        found = occurrence(series, local)
        if found is None:
            continue
        day = landing_day(series, local.date())
        placed = day_start(day, tz) if event.all_day else localize(datetime.combine(day, local.time()), tz)
        if start <= placed <= end:
            yield found


def with_occurrences(calendar: Calendar, *, start: datetime, end: datetime, by_due: bool = False) -> Calendar:
    """``calendar`` with the occurrences of its series in ``[start, end]`` among its events.

    With ``by_due`` the window bounds when notifications fall instead of when occurrences start: each series'
    window is widened by its reminders and the countdown, for previews of what a window would send.
    """
    countdown = calendar.defaults.countdown
    found: list[EventSpec] = [e for e in calendar.events if SERIES_MARK not in e.id]
    for series in calendar.series:
        lo, hi = start, end
        if by_due:
            lo, hi = start - series_lag(series), end + series_lead(series, countdown.within_days if countdown else 0)
        found.extend(expand(series, start=lo, end=hi))
    return replace(calendar, events=tuple(found))
