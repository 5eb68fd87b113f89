"""An iCalendar feed's text in, the events alertd plans out: a pure function of the bytes, the source and ``now``.

Kept libraries do the reading: ``icalendar`` parses (and maps Windows zone names that come without a VTIMEZONE),
``x-wr-timezone`` turns Google's calendar-wide ``X-WR-TIMEZONE`` into per-time zones, and ``recurring-ical-events``
expands RRULE/RDATE/EXDATE within a bounded window, RECURRENCE-ID overrides put in place
(:mod:`alertd.calendar.occurrences`).

Ids are stable across fetches: ``<source>:<UID>`` for a single event and ``<source>:<UID>@YYYYMMDD`` for an
occurrence of a series, the date being the occurrence's original local date (its RECURRENCE-ID), so moving one
occurrence keeps its id and a change notice says "moved". A UID that is long or carries characters unfit for ids
(Outlook's are 100+ hex digits) is replaced by a digest of itself, the same every time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import x_wr_timezone
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from alertd.calendar.occurrences import Occurrence, occurrences, repeats_too_often, rules_of
from alertd.calendar.routes import resolve_notify
from alertd.calendar.sources import LOOKBACK
from alertd.calendar.workdays import count_business_days
from alertd.domain import Defaults, EventSpec, SourceSpec
from alertd.errors import FeedError
from alertd.timeexpr import ZoneError, day_start, localize, wall_clock, zone
from alertd.workdays import WorkdayError

__all__ = ["MAX_OCCURRENCES", "FeedRead", "feed_event_id", "feed_events"]

# More occurrences than this within the horizon is a runaway rule (FREQ=MINUTELY) or not a calendar people read.
MAX_OCCURRENCES = 100_000
_UID_KEEP = re.compile(r"^[A-Za-z0-9._@+=-]{1,64}$")
_STATUS = {"TENTATIVE": "tentative", "CONFIRMED": "confirmed", "CANCELLED": "cancelled"}
_TITLE_MAX = 500
_NOTES_MAX = 4000


@dataclass(slots=True)
class FeedRead:
    """The events of one feed within the window, and what was left out, each as a one-line reason."""

    events: list[EventSpec] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    window_end: datetime | None = None


def feed_event_id(source_id: str, uid: str, original: date | None) -> str:
    """``<source>:<UID>`` (``@YYYYMMDD`` for an occurrence of a series, ``@YYYYMMDDTHHMM`` when ``original`` is a
    local date and time: a series repeating within a day), the UID digested when unfit for an id."""
    key = uid if _UID_KEEP.match(uid) else "h" + hashlib.sha256(uid.encode("utf-8", "replace")).hexdigest()[:32]
    if original is None:
        return f"{source_id}:{key}"
    stamp = f"{original:%Y%m%dT%H%M}" if isinstance(original, datetime) else f"{original:%Y%m%d}"
    return f"{source_id}:{key}@{stamp}"


def feed_events(
    body: bytes,
    source: SourceSpec,
    defaults: Defaults,
    *,
    now: datetime,
    horizon: timedelta,
    max_occurrences: int = MAX_OCCURRENCES,
) -> FeedRead:
    """Every occurrence starting from ``now - LOOKBACK`` up to ``now + horizon``; FeedError when ``body`` is not an
    iCalendar calendar or holds more than ``max_occurrences`` occurrences in that window."""
    calendar = _parse(body, source)
    start, end = now - LOOKBACK, now + horizon
    read = FeedRead(window_end=end)
    _drop_too_frequent(calendar, read)
    series = _series_uids(calendar)
    seen: set[str] = set()
    try:
        for occurrence in occurrences(calendar, start, end, read.skipped):
            begins = _instant(occurrence.start, source.timezone)
            if begins is None:
                read.skipped.append(f"an event without a usable DTSTART ({_uid(occurrence.component)!r})")
                continue
            if not start <= begins < end:
                continue
            if len(read.events) >= max_occurrences:
                raise FeedError(
                    f"feed {source.id!r} has more than {max_occurrences} occurrences within the planning horizon; "
                    "check its recurrence rules or shorten ALERTD_RECURRENCE_HORIZON"
                )
            event = _counted(_event(occurrence, source, defaults, series), defaults, read)
            if event.id in seen:
                read.skipped.append(f"a second event with the id {event.id!r} (a duplicate UID)")
                continue
            seen.add(event.id)
            read.events.append(event)
    except FeedError:
        raise
    except Exception as exc:
        # The libraries raise many types on broken input (bad rules, bad dates); none of them is a bug of ours.
        raise FeedError(f"feed {source.id!r} could not be read: {_cause(exc)}") from None
    return read


def _counted(event: EventSpec, defaults: Defaults, read: FeedRead) -> EventSpec:
    """``event`` with its business-day reminders (``3bd``) counted against the calendar's working days, as a file
    event's are; one that cannot be counted (no business day within ten years) is left out, saying why."""
    if defaults.workdays is None or not any(o.business_days for o in event.reminders):
        return event
    try:
        return count_business_days(event, defaults.workdays)
    except (WorkdayError, ValueError) as exc:
        read.skipped.append(f"the business-day reminders of {event.id!r}: {exc}")
        return replace(event, reminders=tuple(o for o in event.reminders if not o.business_days))


def _drop_too_frequent(calendar: icalendar.Calendar, read: FeedRead) -> None:
    """Series repeating more often than hourly are no calendar people read; expanding them would cost minutes."""
    dense = {_uid(c) for c in calendar.walk("VEVENT") if any(repeats_too_often(r) for r in _valid_rules(c))}
    if not dense:
        return
    calendar.subcomponents = [c for c in calendar.subcomponents if not (c.name == "VEVENT" and _uid(c) in dense)]
    read.skipped += [f"the series {uid!r}: it repeats more often than hourly" for uid in sorted(dense)]


def _parse(body: bytes, source: SourceSpec) -> icalendar.Calendar:
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VCALENDAR"):
        raise FeedError(f"feed {source.id!r} is not an iCalendar file (it does not start with BEGIN:VCALENDAR)")
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except Exception as exc:
        raise FeedError(f"feed {source.id!r} is not valid iCalendar: {_cause(exc)}") from None
    if isinstance(calendar, list):  # several VCALENDARs in one file: read the first, as calendar apps do
        calendar = calendar[0]
    if not isinstance(calendar, icalendar.Calendar):
        raise FeedError(f"feed {source.id!r} is not an iCalendar calendar")
    try:
        # Google writes floating times and names the calendar's zone once in X-WR-TIMEZONE.
        converted: icalendar.Calendar = x_wr_timezone.to_standard(calendar)
    except Exception as exc:
        raise FeedError(f"feed {source.id!r} has an unusable X-WR-TIMEZONE: {_cause(exc)}") from None
    return converted


def _valid_rules(component: Any) -> list[Any]:
    """The component's rules, or none when one is broken (the expansion then skips that series, saying why)."""
    try:
        return rules_of(component)
    except ValueError:
        return []


def _series_uids(calendar: icalendar.Calendar) -> dict[str, bool]:
    """UIDs of recurring series (a rule, extra dates, or an overridden occurrence), each with whether it repeats
    within a day (then ids carry the original time as well as the date)."""
    found: dict[str, bool] = {}
    for c in calendar.walk("VEVENT"):
        if c.get("RRULE") is None and c.get("RDATE") is None and c.get("RECURRENCE-ID") is None:
            continue
        uid = _uid(c)
        found[uid] = found.get(uid, False) or any(_within_a_day(rule) for rule in _valid_rules(c))
    return found


def _within_a_day(rule: Any) -> bool:
    freq = {str(f).upper() for f in rule.get("FREQ", [])}
    return "HOURLY" in freq or len(rule.get("BYHOUR", [])) > 1 or len(rule.get("BYMINUTE", [])) > 1


def _uid(component: Any) -> str:
    uid = component.get("UID")
    if uid is not None and str(uid).strip():
        return str(uid).strip()
    # RFC 5545 requires a UID; without one the title and start are the best stable key there is.
    key = f"{component.get('SUMMARY', '')}|{component.get('DTSTART').to_ical() if component.get('DTSTART') else ''}"
    return "n" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]


def _zone_name(value: Any, fallback: str) -> str:
    """The IANA zone of a DTSTART: its zone's key or TZID (a Windows name mapped by icalendar's table), else
    ``fallback``. UTC counts as no zone: a feed writing every time in UTC still shows them in the source's zone."""
    tz = getattr(getattr(value, "dt", None), "tzinfo", None)
    params = getattr(value, "params", None) or {}
    for candidate in (getattr(tz, "key", None), params.get("TZID"), getattr(tz, "_tzid", None)):
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        name = WINDOWS_TO_OLSON.get(candidate.strip(), candidate.strip())
        if name in ("UTC", "Etc/UTC", "GMT", "Z"):
            return fallback
        try:
            zone(name)
        except ZoneError:
            continue
        return name
    return fallback


def _instant(dt: Any, fallback_zone: str) -> datetime | None:
    """The exact UTC start; a date starts at midnight in the feed's zone, a floating time is read in it."""
    if isinstance(dt, datetime):
        if dt.tzinfo is None:
            return localize(dt, zone(fallback_zone))
        return dt.astimezone(UTC)
    if isinstance(dt, date):
        return day_start(dt, zone(fallback_zone))
    return None


def _stamp(original: date, with_time: bool) -> date:
    """The part of an occurrence's original start its id carries: the date, or the wall-clock minute too."""
    if isinstance(original, datetime):
        return original.replace(tzinfo=None, second=0, microsecond=0) if with_time else original.date()
    return original


def _event(occurrence: Occurrence, source: SourceSpec, defaults: Defaults, series: dict[str, bool]) -> EventSpec:
    component, value, dt = occurrence.component, occurrence.value, occurrence.start
    uid = _uid(component)
    original = occurrence.original if uid in series else None
    event_id = feed_event_id(source.id, uid, None if original is None else _stamp(original, series[uid]))
    status = _STATUS.get(str(component.get("STATUS", "CONFIRMED")).upper(), "confirmed")
    title = " ".join(str(component.get("SUMMARY", "")).split())[:_TITLE_MAX] or "(untitled)"
    notes = str(component.get("DESCRIPTION", "")).strip()[:_NOTES_MAX] or None
    link = component.get("URL")
    tags = tuple(dict.fromkeys([*source.tags, *_categories(component)]))
    if isinstance(dt, datetime):
        name = _zone_name(value, source.timezone)
        instant = localize(dt, zone(name)) if dt.tzinfo is None else dt.astimezone(UTC)
        local, all_day = _local(dt, instant, name), False
    else:
        name = source.timezone
        local, all_day = datetime(dt.year, dt.month, dt.day), True
        instant = day_start(dt, zone(name))
    return EventSpec(
        id=event_id,
        title=title,
        local_start=local,
        all_day=all_day,
        timezone=name,
        starts_at=instant,
        status=status,
        tags=tags,
        source=str(link) if link is not None and str(link).startswith(("https://", "http://")) else None,
        notes=notes,
        reminders=source.reminders,
        notify=resolve_notify(source.notify, defaults.routes, tags, status),
        all_day_at=source.all_day_at,
        countdown=source.countdown,
        owner="feed",
    )


def _local(dt: datetime, instant: datetime, name: str) -> datetime:
    """The wall clock the feed wrote, when it means ``instant`` in the zone: a time in a spring-forward gap stays
    as written, as in a calendar file, so reminders days before it fall at that wall-clock time too (as the feed's
    own alarms would). Otherwise (a time in another zone, the second run of a repeated hour) the instant's."""
    written = dt.replace(tzinfo=None)
    return written if localize(written, zone(name)) == instant else wall_clock(instant, zone(name))


def _categories(component: Any) -> Iterator[str]:
    """CATEGORIES as tags (lower case, spaces as '-'), so routes can match them like tags in the file."""
    found = component.get("CATEGORIES")
    for group in found if isinstance(found, list) else [found] if found is not None else []:
        for item in getattr(group, "cats", []):
            tag = "-".join(str(item).lower().split())
            if tag:
                yield tag[:64]


def _cause(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
