"""The calendar as iCalendar (RFC 5545) with one VALARM per reminder: ``alertd export-ics`` and ``/calendar.ics``.

Written by hand rather than with a library: the output is small and fixed, and we need exact control over the
parts that decide whether clients agree with alertd — VTIMEZONE rules generated from the same zoneinfo data the
planner uses, nominal-day versus exact-time alarm triggers, escaping, 75-octet folding and CRLF.

Alarms mean what alertd's reminders mean (SPEC §3): for a timed event ``7d`` becomes ``TRIGGER:-P7D`` (RFC 5545
days are nominal, like ours) and ``2h`` becomes ``TRIGGER:-PT2H`` (exact). An all-day event has no start time,
so its reminders fire at ``all_day_at``; a relative trigger would count from a floating midnight that each client
places in its own zone, so those alarms carry the planned UTC instant instead (``TRIGGER;VALUE=DATE-TIME``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alertd import __version__
from alertd.domain import Calendar, EventSpec
from alertd.planning.planner import plan_reminders
from alertd.timeexpr import Offset, localize, zone

__all__ = ["fold", "render_calendar"]

_STATUS = {"tentative": "TENTATIVE", "confirmed": "CONFIRMED", "cancelled": "CANCELLED", "postponed": "TENTATIVE"}
_MAX_OCTETS = 75
# A URI value is written unescaped, so only a single-token http(s) URL may become URL (else it stays in DESCRIPTION).
_URL = re.compile(r"https?://[!-~]+")
# Zone rules are written for these many years either side of the events' own, so alarms weeks before a
# 1 January event and clients that expand a little around each event still find a rule.
_MARGIN_YEARS = 1


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold one content line into pieces of at most 75 octets (RFC 5545 §3.1), never splitting a character."""
    pieces: list[bytes] = []
    current = b""
    for char in line:
        octets = char.encode("utf-8")
        if len(current) + len(octets) > _MAX_OCTETS:
            pieces.append(current)
            current = b" "  # the continuation marker counts toward the next piece's 75 octets
        current += octets
    pieces.append(current)
    return "\r\n".join(p.decode("utf-8") for p in pieces)


def _utc_stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _offset(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _state(tz: ZoneInfo, instant: datetime) -> tuple[timedelta, timedelta, str]:
    local = instant.astimezone(tz)
    return local.utcoffset() or timedelta(0), local.dst() or timedelta(0), local.tzname() or ""


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in ``[start, end)`` at which ``tz`` changes its offset, DST flag or abbreviation."""
    found: list[datetime] = []
    step = timedelta(hours=12)  # no zone changes its rules twice within half a day
    at = start
    while at < end:
        nxt = at + step
        if _state(tz, at) != _state(tz, nxt):
            lo, hi = at, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if _state(tz, mid) == _state(tz, lo) else (lo, mid)
            found.append(hi.replace(microsecond=0))
        at = nxt
    return found


def _vtimezone(name: str, first_year: int, last_year: int) -> list[str]:
    """A VTIMEZONE with one observance per transition in the years given, plus the rule in force at their start."""
    tz = zone(name)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]

    def observance(at: datetime, before: timedelta) -> None:
        after, dst, abbr = _state(tz, at)
        kind = "DAYLIGHT" if dst else "STANDARD"
        lines.extend(
            [
                f"BEGIN:{kind}",
                # DTSTART is the wall-clock time of the change as read before it (RFC 5545 §3.6.5).
                f"DTSTART:{(at + before).replace(tzinfo=None):%Y%m%dT%H%M%S}",
                f"TZOFFSETFROM:{_offset(before)}",
                f"TZOFFSETTO:{_offset(after)}",
                *([f"TZNAME:{_text(abbr)}"] if abbr else []),
                f"END:{kind}",
            ]
        )

    observance(start, _state(tz, start)[0])
    for at in _transitions(tz, start, end):
        observance(at, _state(tz, at - timedelta(seconds=1))[0])
    lines.append("END:VTIMEZONE")
    return lines


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


def _alarms(event: EventSpec) -> list[str]:
    # plan_reminders gives exactly the instants alertd will notify at (nothing for cancelled/postponed events).
    due = {p.offset: p.due_at for p in plan_reminders(event, ["ics"])}
    # Against a UTC start a client counts nominal days in UTC, not in the event's zone: those alarms, like an
    # all-day event's, carry the planned instant.
    fixed = event.all_day or _utc_start(event)
    lines: list[str] = []
    for offset in event.reminders:
        if offset.text not in due:
            continue
        when = "at the start" if offset.is_zero else f"{offset.text} {'after' if offset.after else 'before'}"
        trigger = (
            f"TRIGGER;VALUE=DATE-TIME:{_utc_stamp(due[offset.text])}"
            if fixed and (event.all_day or offset.days)
            else f"TRIGGER:{_duration(offset)}"
        )
        lines.extend(
            [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"DESCRIPTION:{_text(f'{event.title} ({when})')}",
                trigger,
                "END:VALARM",
            ]
        )
    return lines


def _start_lines(event: EventSpec) -> list[str]:
    if event.all_day:
        day = event.local_start.date()
        return [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}"]
    if _utc_start(event):
        return [f"DTSTART:{_utc_stamp(event.starts_at)}"]
    return [f"DTSTART;TZID={event.timezone}:{event.local_start:%Y%m%dT%H%M%S}"]


def _vevent(event: EventSpec, *, now: datetime, sequence: int) -> list[str]:
    description = "\n\n".join(p for p in (event.notes, f"Source: {event.source}" if event.source else None) if p)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_text(event.id)}@alertd",
        f"DTSTAMP:{_utc_stamp(now)}",
        *_start_lines(event),
        f"SUMMARY:{_text(event.title)}",
        f"STATUS:{_STATUS.get(event.status, 'CONFIRMED')}",
        f"SEQUENCE:{sequence}",
    ]
    if event.status == "postponed":
        # iCalendar has no "postponed": TENTATIVE is the nearest; this keeps the exact status for tools that care.
        lines.append("X-ALERTD-STATUS:POSTPONED")
    if event.acknowledged:
        # Someone said it is handled (alertd ack); with after_ack: stop it also has no alarms left.
        lines.append("X-ALERTD-ACK:TRUE")
    if description:
        lines.append(f"DESCRIPTION:{_text(description)}")
    if event.source and _URL.fullmatch(event.source):
        lines.append(f"URL:{event.source}")
    if event.tags:
        lines.append("CATEGORIES:" + ",".join(_text(t) for t in event.tags))
    lines.extend(_alarms(event))
    lines.append("END:VEVENT")
    return lines


def render_calendar(
    events: Iterable[EventSpec],
    calendar: Calendar,
    now: datetime,
    *,
    revisions: Mapping[str, int] | None = None,
) -> str:
    """The iCalendar text of ``events`` (CRLF lines, folded). ``revisions`` gives each event's SEQUENCE."""
    chosen = sorted(events, key=lambda e: (e.starts_at, e.id))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//alertd//alertd {__version__}//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:alertd",
        f"X-WR-TIMEZONE:{calendar.timezone}",
    ]
    years: dict[str, tuple[int, int]] = {}
    for event in chosen:
        if event.all_day:
            continue  # DATE values are floating: they need no zone rules
        year = event.local_start.year
        low, high = years.get(event.timezone, (year, year))
        years[event.timezone] = (min(low, year), max(high, year))
    for name in sorted(years):
        low, high = years[name]
        lines.extend(_vtimezone(name, low - _MARGIN_YEARS, high + _MARGIN_YEARS))
    for event in chosen:
        lines.extend(_vevent(event, now=now, sequence=(revisions or {}).get(event.id, 1) - 1))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
