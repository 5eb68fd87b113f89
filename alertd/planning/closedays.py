"""Business days per occurrence of a recurring event: ``if_closed`` and ``Nbd`` offsets applied to each occurrence.

A series keeps its event as written (``at``, uncounted ``3bd``); each occurrence is moved off a closed day and has
its business-day offsets counted from its own date, with the same pure functions a one-off event uses
(:mod:`alertd.calendar.workdays`). An occurrence keeps the id of the date the rule gives it, so a closed date added
later moves it (one change notice) rather than replacing it.

An ``occurrences:`` entry with its own ``at`` is taken as written: the person chose that date, so ``if_closed`` does
not move it; its business-day offsets are still counted from it.

Windows are compared with where occurrences land, so the rule is scanned a little wider: under ``previous`` an
occurrence on a closed run just after the window lands inside it, under ``next`` one just before it does.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, time, timedelta

from alertd.calendar import count_business_days, move_off_closed
from alertd.domain import EventSpec, Series
from alertd.timeexpr import Offset
from alertd.workdays import MAX_SCAN_DAYS, WorkdayError, adjust, business_days_from

__all__ = ["landing_day", "offset_reach", "scan_bounds", "settle_occurrence", "settles"]

log = logging.getLogger("alertd.recurrence")

# Runs of closed days besides weekends (Golden Week with its weekends, Christmas to New Year) fit in three weeks:
# only a bound for how far ahead a window looks, each occurrence is counted exactly.
_HOLIDAY_RUN_DAYS = 21
# The fewest open weekdays a weekend a country or the file gives leaves (bounds the walk for any of them).
_MIN_OPEN_DAYS = 4


def settles(series: Series) -> bool:
    """Whether business days change any occurrence of ``series`` (a file-wide ``workdays`` alone does not)."""
    if series.workdays is None:
        return False
    return series.if_closed != "none" or any(o.business_days for o in series.event.reminders)


def settle_occurrence(series: Series, found: EventSpec, *, moved_by_hand: bool) -> EventSpec | None:
    """``found`` (one occurrence) moved off a closed day unless an override placed it, with its ``Nbd`` counted;
    None (logged) when no business day is within reach or the holidays of its year cannot be computed."""
    workdays = series.workdays
    if workdays is None or not settles(series):
        return found
    try:
        moved = found if moved_by_hand else move_off_closed(found, workdays, series.if_closed)
        return count_business_days(moved, workdays)
    except (WorkdayError, ValueError) as exc:
        log.warning("occurrence %s skipped: %s", found.id, exc)
        return None


def landing_day(series: Series, day: date) -> date:
    """Where ``if_closed`` puts an occurrence the rule gives on ``day`` (``day`` itself when unsure)."""
    if series.workdays is None or series.if_closed == "none":
        return day
    try:
        return adjust(day, series.workdays, series.if_closed)
    except WorkdayError:
        # settle_occurrence logs the same failure for this occurrence; the window keeps the rule's date.
        return day


def scan_bounds(series: Series, first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """The wall-time span of rule dates whose occurrences may land in ``[first, last]``."""
    workdays = series.workdays
    if workdays is None or series.if_closed == "none":
        return first, last
    try:
        if series.if_closed == "previous":
            # Any day before the next business day after ``last`` falls back to ``last`` or earlier.
            return first, datetime.combine(business_days_from(last.date(), 1, workdays), time.min)
        return datetime.combine(business_days_from(first.date(), -1, workdays), time.max), last
    except WorkdayError:
        return first, last


def offset_reach(series: Series, offset: Offset) -> timedelta:
    """How far from its occurrence ``offset`` can fall: exact for ``Nd``/``Nh``, a bound for an uncounted ``Nbd``."""
    reach = timedelta(days=offset.days, seconds=offset.seconds)
    if not offset.unresolved:
        return reach
    weekend = series.workdays.weekend if series.workdays is not None else None
    open_days = 7 - len(weekend) if weekend is not None else _MIN_OPEN_DAYS
    days = math.ceil(offset.business_days * 7 / open_days) + _HOLIDAY_RUN_DAYS
    return reach + timedelta(days=min(days, MAX_SCAN_DAYS))
