"""Working-day calendars: which days are business days, business-day offsets, and moving a date off a closed day.

A :class:`WorkdayCalendar` names a country (and optionally a subdivision) known to the ``holidays`` package, extra
``closed`` dates, and optionally its own weekend. A day is closed when it is a public holiday there, one of the
extra dates, or a weekend day, except that a weekend day the government declared a make-up working day (China's
调休 days, which ``holidays`` lists as ``weekend_workdays``) is open; a weekend given explicitly has no make-up days.

``holidays`` is imported on first use only: a calendar without ``workdays`` never loads it (startup is benchmarked).
Holiday sets are computed once per (country, subdivision, year). Every walk over days is bounded by
:data:`MAX_SCAN_DAYS`, so a calendar closed for years on end gives an error, not a hang.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

__all__ = [
    "IF_CLOSED",
    "MAX_SCAN_DAYS",
    "WEEKDAYS",
    "IfClosed",
    "WorkdayCalendar",
    "WorkdayError",
    "adjust",
    "business_days_from",
    "check_region",
    "closure",
    "is_business_day",
    "weekend_days",
]

IfClosed = Literal["previous", "next", "none"]
IF_CLOSED: tuple[IfClosed, ...] = ("previous", "next", "none")
# Monday first, as date.weekday() counts.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The same ten years the offset grammar allows (alertd.timeexpr): no walk looks further for a business day.
MAX_SCAN_DAYS = 3660
# Longer lists of subdivision codes are pointed to rather than printed: the message stays one readable line.
_MAX_LISTED = 80
_FIND_CODES = "see the country list at https://holidays.readthedocs.io (ISO 3166 codes, e.g. US, GB, DE, CN, JP)"


class WorkdayError(ValueError):
    """A working-day calendar cannot be built or used; str() is a one-line cause with the fix."""


@dataclass(frozen=True, slots=True)
class WorkdayCalendar:
    """A country's (or subdivision's) business days, less the ``closed`` dates.

    ``weekend`` holds weekday numbers (Monday 0); None means the country's own weekend as ``holidays`` knows it.
    """

    country: str
    subdivision: str | None = None
    closed: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] | None = None

    def describe(self) -> str:
        """``US-NY``: the region, as messages name it."""
        return self.country + (f"-{self.subdivision}" if self.subdivision else "")


@dataclass(frozen=True, slots=True)
class _Year:
    holidays: Mapping[date, str]
    weekend: frozenset[int]
    make_up: frozenset[date]


def check_region(country: str, subdivision: str | None = None) -> tuple[str, str | None]:
    """The canonical (country, subdivision) codes, or WorkdayError naming how to find valid ones."""
    import holidays

    code = country.strip().upper()
    if len(code) > 3:
        # Codes are two or three letters: a long text is no code, whatever the package would make of it.
        raise WorkdayError(f"unknown country {_shown(country)}: {_FIND_CODES}")
    # Subdivision names are short; a long text is looked up as one that cannot exist, for the same message.
    lookup = subdivision if subdivision is None or len(subdivision) <= 100 else "?"
    try:
        try:
            found = holidays.country_holidays(code, subdiv=lookup, years=())
        except NotImplementedError:
            if lookup is None or lookup == lookup.upper():
                raise
            found = holidays.country_holidays(code, subdiv=lookup.upper(), years=())
    except NotImplementedError:
        if subdivision is not None and _known_country(code):
            known = holidays.country_holidays(code, years=())
            codes = sorted(str(s) for s in known.subdivisions)
            listed = f"use one of: {', '.join(codes)}" if codes else f"{code} has no subdivisions; remove it"
            if len(codes) > _MAX_LISTED:
                listed = f"{code} has {len(codes)} subdivisions; find their codes on its page at https://holidays.readthedocs.io"
            raise WorkdayError(f"unknown subdivision {_shown(subdivision)} of {code}: {listed}") from None
        raise WorkdayError(f"unknown country {_shown(country)}: {_FIND_CODES}") from None
    # holidays accepts a subdivision's name ("New York") and its alias codes; keep the code it files them under.
    subdiv = found.subdiv if subdivision is not None else None
    subdiv = getattr(found, "subdivisions_aliases", {}).get(subdiv, subdiv)
    return str(found.country), (str(subdiv) if subdiv is not None else None)


def _shown(text: str) -> str:
    # A message quotes what was written, but never a whole pasted document.
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "…"


def _known_country(code: str) -> bool:
    import holidays

    try:
        holidays.country_holidays(code, years=())
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=256)
def _year(country: str, subdivision: str | None, year: int) -> _Year:
    import holidays

    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except (LookupError, ValueError, NotImplementedError, OverflowError) as exc:
        # A year outside what the package can compute (its lunar tables end somewhere) is the user's to hear of.
        cause = f"the holidays of {country} in {year} cannot be computed ({exc})"
        raise WorkdayError(f"{cause}: choose another date") from None
    names = {day: str(name) for day, name in found.items() if day.year == year}
    make_up = frozenset(d for d in getattr(found, "weekend_workdays", ()) if d.year == year)
    return _Year(names, frozenset(found.weekend), make_up)


def closure(day: date, workdays: WorkdayCalendar) -> str | None:
    """Why ``day`` is closed (a holiday's name, ``closed``, ``weekend``), or None for a business day."""
    if day in workdays.closed:
        return "closed"
    known = _year(workdays.country, workdays.subdivision, day.year)
    if day in known.holidays:
        return known.holidays[day]
    if workdays.weekend is not None:
        return "weekend" if day.weekday() in workdays.weekend else None
    if day.weekday() in known.weekend and day not in known.make_up:
        return "weekend"
    return None


def is_business_day(day: date, workdays: WorkdayCalendar) -> bool:
    return closure(day, workdays) is None


def _step(day: date, direction: int) -> date:
    try:
        return day + timedelta(days=direction)
    except OverflowError:
        raise WorkdayError(f"no business day near {day.isoformat()}: the date is out of range") from None


def business_days_from(day: date, count: int, workdays: WorkdayCalendar) -> date:
    """The day ``count`` business days after ``day`` (before it when negative); ``day`` itself need not be open.

    WorkdayError when that day is further than :data:`MAX_SCAN_DAYS` calendar days away.
    """
    direction = 1 if count > 0 else -1
    left, current = abs(count), day
    for _ in range(MAX_SCAN_DAYS):
        if not left:
            return current
        current = _step(current, direction)
        if is_business_day(current, workdays):
            left -= 1
    if not left:
        return current
    raise WorkdayError(
        f"{abs(count)} business days {'after' if count > 0 else 'before'} {day.isoformat()} reach more than "
        f"{MAX_SCAN_DAYS} days away in {workdays.describe()}: use a smaller offset or fewer closed dates"
    )


def adjust(day: date, workdays: WorkdayCalendar, rule: IfClosed) -> date:
    """``day``, or for a closed day under ``previous``/``next`` the nearest business day before/after it."""
    if rule == "none" or is_business_day(day, workdays):
        return day
    direction = -1 if rule == "previous" else 1
    current = day
    for _ in range(MAX_SCAN_DAYS):
        current = _step(current, direction)
        if is_business_day(current, workdays):
            return current
    raise WorkdayError(
        f"no business day within {MAX_SCAN_DAYS} days {'before' if direction < 0 else 'after'} "
        f"{day.isoformat()} in {workdays.describe()}: check the closed dates and weekend"
    )


def weekend_days(names: Collection[str]) -> frozenset[int]:
    """Weekday numbers for ``[sat, sun]``; WorkdayError for a name that is not a weekday or a week with no workday."""
    days: set[int] = set()
    for name in names:
        key = name.strip().lower()
        if key not in WEEKDAYS and key not in _FULL:
            raise WorkdayError(f"unknown weekday {name!r}: use {', '.join(WEEKDAYS)}")
        days.add(WEEKDAYS.index(key[:3]))
    if len(days) == len(WEEKDAYS):
        raise WorkdayError("a weekend of all seven days leaves no business day: list fewer days")
    return frozenset(days)
