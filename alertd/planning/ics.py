"""The calendar as iCalendar (RFC 5545) with one VALARM per reminder: ``alertd export-ics`` and ``/calendar.ics``.

Written with the ``icalendar`` library (escaping, folding, VTIMEZONEs built from the same zoneinfo data the planner
uses), which also reads calendar feeds: one implementation writes and reads. What stays ours is what decides
whether clients agree with alertd:

- Alarms mean what alertd's reminders mean (SPEC §3): for a timed event ``7d`` becomes ``TRIGGER:-P7D`` (RFC 5545
  days are nominal, like ours) and ``2h`` becomes ``TRIGGER:-PT2H`` (exact), written as given (a library would
  normalise ``336h`` to 14 nominal days). An all-day event has no start time, so its reminders fire at
  ``all_day_at``; a relative trigger would count from a floating midnight that each client places in its own zone,
  so those alarms carry the planned UTC instant instead (``TRIGGER;VALUE=DATE-TIME``).
- A recurring event is one master VEVENT with its RRULE and EXDATEs (UNTIL rewritten in UTC, as RFC 5545 wants
  beside a TZID start), and each overridden occurrence a VEVENT with the master's UID and a RECURRENCE-ID.
- RRULE cannot say "or the previous business day", nor that ``3bd`` is five days before one occurrence and three
  before another. With a working-day calendar the master carries the alarms most occurrences have, and every
  occurrence that lands elsewhere or whose alarms differ is written as a RECURRENCE-ID instance, from a year back
  to as far ahead as the zone rules go (clients show later ones as the bare rule gives them), at most 500 of them.
- A recurring all-day event's alarms must stay relative (they recur), so they count whole days (nominal) and then
  hours within one day (exact) from each date's midnight: ``7d`` at 09:00 is ``-P6DT15H``. The few occurrences
  whose alarm day has a clock change in that exact part (``0d`` on a Sunday the clocks change) are instances with
  the planned instants, like business-day ones.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

from icalendar import Alarm, Event
from icalendar import Calendar as ICalendar
from icalendar.prop import vInline, vRecur

from alertd import __version__
from alertd.calendar import count_business_days, rule_until
from alertd.domain import Calendar, EventSpec, Series
from alertd.planning.closedays import settles
from alertd.planning.planner import plan_reminders
from alertd.planning.recurrence import SERIES_MARK, expand, occurrence
from alertd.timeexpr import Offset, day_start, localize, zone
from alertd.workdays import WorkdayError

__all__ = ["render_calendar"]

_STATUS = {"tentative": "TENTATIVE", "confirmed": "CONFIRMED", "cancelled": "CANCELLED", "postponed": "TENTATIVE"}
# A URI value is written unescaped, so only a single-token http(s) URL may become URL (else it stays in DESCRIPTION).
_URL = re.compile(r"https?://[!-~]+")
# Zone rules are written for these many years either side of the events' own, so alarms weeks before a
# 1 January event and clients that expand a little around each event still find a rule.
_MARGIN_YEARS = 1
# How far ahead zone rules go for a rule without an end: clients expand recurring events years ahead.
_SERIES_YEARS = 5
# Occurrences checked against a working-day calendar for the export (seven years of a daily rule fit), and how many
# of them may become instances: decades of a monthly rule, about two years of a daily rule with a 3bd alarm.
_MAX_SETTLED = 5_000
_MAX_INSTANCES = 500
_A_DAY = timedelta(days=1)

log = logging.getLogger("alertd.ics")


def _duration(offset: Offset) -> str:
    """An RFC 5545 duration for a reminder offset: days nominal, hours/minutes/seconds exact, as in SPEC §3."""
    if offset.is_zero:
        return "PT0S"
    out = "P" + (f"{offset.days}D" if offset.days else "")
    if offset.seconds:
        hours, rest = divmod(offset.seconds, 3600)
        minutes, secs = divmod(rest, 60)
        out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return out if offset.after else "-" + out


def _utc_start(event: EventSpec) -> bool:
    """Whether the start must be written in UTC: the second run of a repeated local time cannot be written as
    TZID + wall clock (RFC 5545 reads that as the first)."""
    return not event.all_day and localize(event.local_start, zone(event.timezone)) != event.starts_at


def _when(event: EventSpec) -> date | datetime:
    """DTSTART's value: a DATE, the wall clock in the event's zone (TZID), or the UTC instant."""
    if event.all_day:
        return event.local_start.date()
    if _utc_start(event):
        return event.starts_at
    return event.local_start.replace(tzinfo=zone(event.timezone), fold=0)


def _alarms(event: EventSpec, *, recurring: bool = False) -> list[Alarm]:
    # plan_reminders gives exactly the instants alertd will notify at (nothing for cancelled/postponed events).
    due = {p.offset: p.due_at for p in plan_reminders(event, ["ics"])}
    # Against a UTC start a client counts nominal days in UTC, not in the event's zone: those alarms, like an
    # all-day event's, carry the planned instant. A series' alarms recur with it, so they stay relative.
    fixed = not recurring and (event.all_day or _utc_start(event))
    alarms: list[Alarm] = []
    for offset in event.reminders:
        if offset.text not in due:
            continue
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        when = "at the start" if offset.is_zero else f"{offset.text} {'after' if offset.after else 'before'}"
        alarm.add("DESCRIPTION", f"{event.title} ({when})")
        if fixed and (event.all_day or offset.days):
            alarm.add("TRIGGER", due[offset.text].astimezone(UTC), parameters={"VALUE": "DATE-TIME"})
        elif recurring and event.all_day:
            alarm.add("TRIGGER", vInline(_all_day_duration(event, offset)), encode=False)
        else:
            alarm.add("TRIGGER", vInline(_duration(offset)), encode=False)
        alarms.append(alarm)
    return alarms


def _all_day_trigger(event: EventSpec, offset: Offset) -> timedelta:
    """A recurring all-day event's alarm relative to each day's start: ``all_day_at`` on the day the offset picks."""
    sign = 1 if offset.after else -1
    days = sign * (offset.days + (offset.seconds // 86400 if offset.seconds else 0))
    return timedelta(days=days, hours=event.all_day_at.hour, minutes=event.all_day_at.minute)


def _all_day_duration(event: EventSpec, offset: Offset) -> str:
    """The trigger as whole days (nominal: they keep the wall clock) and less than a day (exact), so only a clock
    change in that last part of a day moves it; _clock_shifted finds those occurrences."""
    trigger = _all_day_trigger(event, offset)
    if not trigger:
        return "PT0S"
    whole = abs(trigger)
    hours, rest = divmod(whole.seconds, 3600)
    minutes = rest // 60
    text = "P" + (f"{whole.days}D" if whole.days else "")
    if hours or minutes:
        text += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text if trigger > timedelta() else "-" + text


def _fired(day: date, trigger: timedelta, tz: ZoneInfo) -> datetime:
    """When a client following RFC 5545 fires ``trigger`` for a DATE start on ``day`` read in ``tz``."""
    sign = -1 if trigger < timedelta() else 1
    whole = abs(trigger)
    days = timedelta(days=whole.days)
    # Aware arithmetic keeps the wall clock (nominal days); the rest is added to the instant (exact).
    base = datetime.combine(day, time(0), tz) + sign * days
    return base.astimezone(UTC) + sign * (whole - days)


@lru_cache(maxsize=64)
def _change_days(zone_name: str, first_year: int, last_year: int) -> tuple[date, ...]:
    """The days of those years on which ``zone_name``'s offset changes (a day's midnight and the next differ).
    Kept: every all-day series of a zone asks for the same years, on every export."""
    tz = zone(zone_name)
    first, last = date(first_year, 1, 1), date(last_year, 12, 31)
    changes: list[date] = []
    offset = datetime.combine(first, time(0), tz).utcoffset()
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n + 1)
        following = datetime.combine(day, time(0), tz).utcoffset()
        if following != offset:
            changes.append(day - timedelta(days=1))
        offset = following
    return tuple(changes)


def _clock_shifted(series: Series, master: EventSpec, now: datetime) -> list[date]:
    """The days of an all-day series whose master alarms a clock change would fire an hour off: those become
    instances with the planned instants. Only a day that has a change (where the exact part of a trigger lies) can
    be one, so a few occurrences a year are checked, not the whole rule."""
    event = series.event
    if not event.all_day or not master.reminders:
        return []
    tz = zone(event.timezone)
    last_year = max(now.year, event.local_start.year) + _SERIES_YEARS + _MARGIN_YEARS
    changes = _change_days(event.timezone, now.year - 1, last_year)
    triggers = {o.text: _all_day_trigger(master, o) for o in master.reminders}
    # The alarm of day D lies on day D + trigger.days; a day either side covers changes at midnight.
    shifts = {t.days + shift for t in triggers.values() for shift in (-1, 0, 1)}
    candidates = sorted({change - timedelta(days=s) for change in changes for s in shifts})
    found: list[date] = []
    for day in candidates:
        if day in series.overrides or day in found:
            continue
        for o in expand(series, start=day_start(day, tz) - timedelta(days=1), end=day_start(day, tz) + _A_DAY):
            if _rule_day(o) != day or o.local_start.date() != day or o.reminders != master.reminders:
                continue
            planned = {p.offset: p.due_at for p in plan_reminders(o, ["ics"]) if p.offset is not None}
            if any(_fired(day, triggers[text], tz) != due for text, due in planned.items()):
                found.append(day)
    return found


def _vevent(event: EventSpec, *, uid: str, now: datetime, sequence: int, recurring: bool = False) -> Event:
    vevent = Event()
    vevent.add("UID", f"{uid}@alertd")
    vevent.add("DTSTAMP", now.astimezone(UTC))
    vevent.add("DTSTART", _when(event))
    if event.all_day:
        vevent.add("DTEND", event.local_start.date() + timedelta(days=1))
    vevent.add("SUMMARY", event.title)
    vevent.add("STATUS", _STATUS.get(event.status, "CONFIRMED"))
    vevent.add("SEQUENCE", sequence)
    if event.status == "postponed":
        # iCalendar has no "postponed": TENTATIVE is the nearest; this keeps the exact status for tools that care.
        vevent.add("X-ALERTD-STATUS", "POSTPONED")
    if event.acknowledged:
        # Someone said it is handled (alertd ack); with after_ack: stop it also has no alarms left.
        vevent.add("X-ALERTD-ACK", "TRUE")
    description = "\n\n".join(p for p in (event.notes, f"Source: {event.source}" if event.source else None) if p)
    if description:
        vevent.add("DESCRIPTION", description)
    if event.source and _URL.fullmatch(event.source):
        vevent.add("URL", event.source)
    if event.tags:
        vevent.add("CATEGORIES", list(event.tags))
    for alarm in _alarms(event, recurring=recurring):
        vevent.add_component(alarm)
    return vevent


def _rule(series: Series) -> vRecur:
    """The RRULE as exported: UNTIL (a local date or time in the file) as RFC 5545 wants it beside DTSTART."""
    rule: vRecur = vRecur.from_ical(series.rule.upper().removeprefix("RRULE:"))
    tz = zone(series.event.timezone)
    until = rule_until(series.rule, tz)
    if until is not None:
        rule["UNTIL"] = [until.date() if series.event.all_day else localize(until, tz)]
    return rule


def _series(series: Series, *, now: datetime, revisions: Mapping[str, int]) -> list[Event]:
    """The master VEVENT (RRULE, EXDATE) and one VEVENT per overridden occurrence (RECURRENCE-ID)."""
    event = series.event
    tz = zone(event.timezone)
    prefix = event.id + SERIES_MARK
    sequence = max((r for k, r in revisions.items() if k.startswith(prefix)), default=1) - 1
    settled = _settled(series, now)
    master_event = _master(series, settled)
    master = _vevent(master_event, uid=event.id, now=now, sequence=sequence, recurring=True)
    master.add("RRULE", _rule(series))

    def original(day: date) -> date | datetime:
        return day if event.all_day else datetime.combine(day, event.local_start.time(), tz)

    if series.exdates:
        master.add("EXDATE", [original(day) for day in sorted(series.exdates)])
    found = [master]
    # RRULE cannot say "or the previous business day", nor give each occurrence its own Nbd: those are instances.
    differ = [
        _rule_day(o) for o in settled if o.local_start.date() != _rule_day(o) or o.reminders != master_event.reminders
    ]
    differ += _clock_shifted(series, master_event, now)
    for day in sorted(set(series.overrides) | set(_bounded(series, differ, now))):
        moved = occurrence(series, datetime.combine(day, event.local_start.time()))
        if moved is None:
            continue
        instance = _vevent(moved, uid=event.id, now=now, sequence=revisions.get(moved.id, 1) - 1)
        instance.add("RECURRENCE-ID", original(day))
        found.append(instance)
    return found


def _settled(series: Series, now: datetime) -> list[EventSpec]:
    """The occurrences a working-day calendar settles, from a year back to where the zone rules end."""
    if not settles(series):
        return []
    end = datetime(now.year + _SERIES_YEARS + _MARGIN_YEARS, 12, 31, tzinfo=UTC)
    found = list(islice(expand(series, start=now - timedelta(days=366), end=end), _MAX_SETTLED + 1))
    if len(found) > _MAX_SETTLED:
        log.warning(
            "%s: only its first %d occurrences are checked against its working-day calendar for the export; "
            "later ones show on the rule's dates with the master's alarms",
            series.event.id,
            _MAX_SETTLED,
        )
    return found[:_MAX_SETTLED]


def _bounded(series: Series, days: list[date], now: datetime) -> list[date]:
    """At most _MAX_INSTANCES of ``days``, upcoming ones first: each instance costs the export (and every client
    polling it) about as much as an event of its own."""
    if len(days) <= _MAX_INSTANCES:
        return days
    today = now.date()
    kept = sorted(days, key=lambda d: (d < today, d))[:_MAX_INSTANCES]
    log.warning(
        "%s: %d occurrences moved or with their own business-day alarms; the export writes the %d from today on as "
        "instances (up to %s), clients show the others on the rule's dates with the master's alarms",
        series.event.id,
        len(days),
        _MAX_INSTANCES,
        max(kept).isoformat(),
    )
    return kept


def _rule_day(found: EventSpec) -> date:
    # The id's YYYYMMDD, read by slicing: strptime was a seventh of a daily 3bd series' export.
    stamp = found.id.rpartition(SERIES_MARK)[2]
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))


def _master(series: Series, settled: list[EventSpec]) -> EventSpec:
    """The series' event with the alarms most of its unmoved occurrences have, so the fewest need an instance."""
    event, workdays = series.event, series.workdays
    if workdays is None or not settles(series):
        return event
    usual = Counter(
        o.reminders for o in settled if o.local_start.date() == _rule_day(o) and _rule_day(o) not in series.overrides
    )
    if usual:
        return replace(event, reminders=usual.most_common(1)[0][0])
    try:
        return count_business_days(event, workdays)
    except (WorkdayError, ValueError):
        # Its own date has no business day in reach: no occurrence can be planned, so the master has no Nbd alarm.
        return replace(event, reminders=tuple(o for o in event.reminders if not o.unresolved))


def _years(events: list[EventSpec], series: Iterable[Series], now: datetime) -> tuple[int, int] | None:
    timed = [e.local_start.year for e in events if not e.all_day]
    for s in series:
        if not s.event.all_day:
            timed += [s.event.local_start.year, max(now.year, s.event.local_start.year) + _SERIES_YEARS]
    return (min(timed), max(timed)) if timed else None


def render_calendar(
    events: Iterable[EventSpec],
    calendar: Calendar,
    now: datetime,
    *,
    revisions: Mapping[str, int] | None = None,
) -> str:
    """The iCalendar text of ``events`` and the calendar's recurring events (CRLF lines, folded).

    ``revisions`` gives each event's SEQUENCE. Occurrences among ``events`` are left out: their series says them.
    """
    chosen = sorted((e for e in events if SERIES_MARK not in e.id), key=lambda e: (e.starts_at, e.id))
    revisions = revisions or {}
    cal = ICalendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", f"-//alertd//alertd {__version__}//EN")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("X-WR-CALNAME", "alertd")
    cal.add("X-WR-TIMEZONE", calendar.timezone)
    for event in chosen:
        cal.add_component(_vevent(event, uid=event.id, now=now, sequence=revisions.get(event.id, 1) - 1))
    for series in sorted(calendar.series, key=lambda s: (s.event.starts_at, s.event.id)):
        for component in _series(series, now=now, revisions=revisions):
            cal.add_component(component)
    years = _years(chosen, calendar.series, now)
    if years is not None:
        # DATE values are floating: only timed events need zone rules.
        cal.add_missing_timezones(
            first_date=date(years[0] - _MARGIN_YEARS, 1, 1), last_date=date(years[1] + _MARGIN_YEARS, 12, 31)
        )
    # VTIMEZONEs first, as clients that read in one pass expect.
    cal.subcomponents.sort(key=lambda c: c.name != "VTIMEZONE")
    text: str = cal.to_ical().decode("utf-8")
    return text
