"""Pieces every renderer shares, worded in the reader's locale: event times, distances, change sentences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from alertd.domain import CountdownLine, EventSpec
from alertd.messages.i18n import (
    DEFAULT_LOCALE,
    format_day,
    format_time,
    hour_minute,
    phrases,
    relative_text,
    status_text,
)
from alertd.timeexpr import day_end, zone

__all__ = [
    "all_day_end",
    "change_kind",
    "change_rows",
    "countdown_line",
    "day_text",
    "describe_change",
    "event_details",
    "format_when",
    "moved_whens",
    "reader_day",
    "snapshot_when",
    "when_both",
    "when_label",
]


# A message's named tuples are built as the tuples they are (every field given): one per delivery.
_tuple_new = tuple.__new__


def all_day_end(event: EventSpec) -> datetime:
    """When an all-day event's date ends in its own zone (the next day's first instant)."""
    return day_end(event.local_start.date(), zone(event.timezone))


def format_when(event: EventSpec, tz_name: str | None = None, *, locale: str = DEFAULT_LOCALE) -> str:
    """The event's time in its own zone, e.g. ``Thu 30 Oct 2025 11:00 KST (Asia/Seoul)``; in ``tz_name`` if given.

    An all-day event is a date in its own zone; in another zone it is the stretch of that zone's time its date
    covers (``Sat 25 Oct 2025 12:00 EDT – Sun 26 Oct 2025 12:00 EDT (America/New_York)``), or empty when that is
    the same whole day there.
    """
    if event.all_day:
        day = format_day(event.local_start.date(), locale)
        if tz_name is None or tz_name == event.timezone:
            return f"{day} ({phrases(locale).all_day}, {event.timezone})"
        tz = zone(tz_name)
        start, end = event.starts_at.astimezone(tz), all_day_end(event).astimezone(tz)
        midnight = datetime.combine(event.local_start.date(), time(0))
        if (start.replace(tzinfo=None), end.replace(tzinfo=None)) == (midnight, midnight + timedelta(days=1)):
            return ""
        return f"{_moment(start, locale)} – {_moment(end, locale)} ({tz_name})"
    name = tz_name or event.timezone
    # The tz database abbreviation (KST, EDT) is the same in every language, so it is kept beside the IANA name.
    return f"{_moment(event.starts_at.astimezone(zone(name)), locale)} ({name})"


def _moment(local: datetime, locale: str) -> str:
    return f"{format_day(local.date(), locale)} {hour_minute(local.hour, local.minute, locale)} {local.tzname()}"


def when_both(event: EventSpec, tz_name: str, locale: str) -> tuple[str, str]:
    """The time in the event's zone and, when different, in ``tz_name`` (else ``""``), SPEC §3."""
    other = format_when(event, tz_name, locale=locale) if tz_name != event.timezone else ""
    return format_when(event, locale=locale), other


def reader_day(event: EventSpec, now: datetime, tz_name: str) -> date:
    """The date in the reader's zone ``tz_name`` that "today", "tomorrow" or "in N days" counts to at ``now``.

    A timed event: the date its start falls on there. An all-day event lasts its whole date in its own zone, which
    for a reader elsewhere covers parts of two dates: before it, the date it begins on; while it runs, today;
    after it, the date it ended on. So "today" never stands beside another date, and an event still running in
    its own zone is not "yesterday".
    """
    tz = zone(tz_name)
    if not event.all_day:
        return event.starts_at.astimezone(tz).date()
    last = all_day_end(event) - timedelta(microseconds=1)
    return min(max(now, event.starts_at), last).astimezone(tz).date()


def day_text(event: EventSpec, day: date, locale: str) -> str:
    """``day`` (a reader's date for ``event``) in words, followed by the event's own date where that differs:
    ``Wed 29 Oct 2025; Thu 30 Oct 2025 in Asia/Seoul``."""
    own = event.local_start.date() if event.all_day else event.starts_at.astimezone(zone(event.timezone)).date()
    if own == day:
        return format_day(day, locale)
    return phrases(locale).day_elsewhere.format(
        day=format_day(day, locale), own=format_day(own, locale), zone=event.timezone
    )


def countdown_line(event: EventSpec, now: datetime, tz_name: str, *, locale: str = DEFAULT_LOCALE) -> CountdownLine:
    """How far ``event`` is from ``now`` in seconds and in the reader's calendar days, worded in ``locale``, with
    the reader's date it counts to (and the event's own date beside it where that differs)."""
    # One zone for the whole sentence: the reader's today, the reader's date of the event, the date shown.
    tz = zone(tz_name)
    # A timed event's date in the reader's zone is reader_day's, computed here once (every message has one line).
    day = reader_day(event, now, tz_name) if event.all_day else event.starts_at.astimezone(tz).date()
    seconds = int((event.starts_at - now).total_seconds())
    days = (day - now.astimezone(tz).date()).days
    text = relative_text(seconds, days, event.all_day, locale)
    # In the event's own zone its own date is the reader's (the same instant in the same zone): no second lookup.
    same = not event.all_day and tz_name == event.timezone
    shown = format_day(day, locale) if same else day_text(event, day, locale)
    line: CountdownLine = _tuple_new(CountdownLine, (event, seconds, days, text, day, shown))
    return line


def snapshot_when(snap: Mapping[str, Any], locale: str, *, abbreviation: bool = False) -> str:
    """A change notice's before or after time in the event's own zone: ``Mon 10 Nov 2025`` or ``… 09:00``, with
    the zone's abbreviation (``01:30 EST``) when asked."""
    local = datetime.fromisoformat(snap["local_start"])
    day = format_day(local.date(), locale)
    if snap["all_day"]:
        return day
    text = f"{day} {format_time(local, locale)}"
    if abbreviation and snap.get("starts_at") and snap.get("timezone"):
        # The stored instant, not the wall clock, says which run of a repeated hour (EDT or EST) it was.
        instant = datetime.fromisoformat(str(snap["starts_at"]).replace("Z", "+00:00"))
        text += f" {instant.astimezone(zone(str(snap['timezone']))).tzname()}"
    return text


def moved_whens(before: Mapping[str, Any], after: Mapping[str, Any], locale: str) -> tuple[str, str] | None:
    """The old and new times of a change notice, or None when the event did not move."""
    keys = ("local_start", "starts_at", "all_day", "timezone")
    if all(before.get(k) == after.get(k) for k in keys):
        return None
    old, new = snapshot_when(before, locale), snapshot_when(after, locale)
    if old == new:
        # Same wall clock, another instant (a fold or a new zone rule): the abbreviations tell them apart.
        old, new = snapshot_when(before, locale, abbreviation=True), snapshot_when(after, locale, abbreviation=True)
    return old, new


# What a change to these statuses is called in a title, most telling first: a cancelled event that also moved is
# "Cancelled", a confirmed one that moved is "Moved".
_STATUS_KINDS = ("cancelled", "postponed")


def change_kind(change: Mapping[str, Any]) -> str:
    """What happened, for a title: added, removed, cancelled, postponed, moved, confirmed, or changed (the rest)."""
    kind = str(change.get("type"))
    if kind in ("added", "removed"):
        return kind
    before, after = change.get("before") or {}, change.get("after") or {}
    status = after.get("status")
    if status != before.get("status") and status in _STATUS_KINDS:
        return str(status)
    if any(before.get(k) != after.get(k) for k in ("local_start", "starts_at", "all_day", "timezone")):
        return "moved"
    if status != before.get("status") and status == "confirmed":
        return "confirmed"
    return "changed"


def change_rows(change: Mapping[str, Any], locale: str) -> list[tuple[str, str, str]]:
    """What an event's change changed, one ``(label, before, after)`` per aspect (when, status, title), worded in
    ``locale``; empty for an event added or removed."""
    if change.get("type") not in ("changed", "renamed"):
        return []
    p = phrases(locale)
    before, after = change.get("before") or {}, change.get("after") or {}
    rows: list[tuple[str, str, str]] = []
    if before.get("id") != after.get("id"):
        rows.append((p.label_id, str(before.get("id")), str(after.get("id"))))
    try:
        moved = moved_whens(before, after, locale)
    except (KeyError, ValueError):
        moved = ("?", "?")
    if moved is not None:
        old_when, new_when = (when_label(s, locale, w) for s, w in zip((before, after), moved, strict=True))
        rows.append((p.label_when, old_when, new_when))
    old, new = str(before.get("status", "?")), str(after.get("status", "?"))
    if old != new:
        rows.append((p.label_status, status_text(old, locale), status_text(new, locale)))
    if before.get("title") != after.get("title"):
        rows.append((p.label_title, str(before.get("title")), str(after.get("title"))))
    return rows


def when_label(snap: Mapping[str, Any], locale: str, when: str | None = None) -> str:
    """A change's before or after time (``when``, else worded here) with its zone, or ``all day``."""
    try:
        text = when or snapshot_when(snap, locale)
    except (KeyError, ValueError):
        return "?"
    if snap.get("all_day"):
        return f"{text} ({phrases(locale).all_day})"
    return f"{text} ({snap.get('timezone', '?')})"


def describe_change(change: Mapping[str, Any], *, locale: str = DEFAULT_LOCALE) -> str:
    """One sentence for a change notice, e.g. ``moved from Sat 1 Nov 2025 to Mon 10 Nov 2025``."""
    p = phrases(locale)
    kind = change.get("type")
    before, after = change.get("before") or {}, change.get("after") or {}
    if kind == "added":
        return p.added.format(when=snapshot_when(after, locale))
    if kind == "removed":
        return p.removed
    parts: list[str] = []
    if kind == "renamed":
        parts.append(p.id_changed.format(before=before.get("id"), after=after.get("id")))
    moved = moved_whens(before, after, locale)
    if moved is not None:
        parts.append(p.moved.format(before=moved[0], after=moved[1]))
    if before.get("status") != after.get("status"):
        old, new = (status_text(str(s.get("status")), locale) for s in (before, after))
        parts.append(p.status_changed.format(before=old, after=new))
    if before.get("title") != after.get("title"):
        parts.append(p.renamed.format(before=before.get("title")))
    return p.clause_join.join(parts) or p.details_changed


def event_details(event: EventSpec, tz_name: str, locale: str) -> str:
    """The lines under a reminder or change: when (both zones), status unless confirmed, source."""
    # when_both's pair, joined here without building it (every message has these lines).
    here = format_when(event, locale=locale)
    if tz_name != event.timezone:
        there = format_when(event, tz_name, locale=locale)
        if there:
            here = f"{here} = {there}"
    if event.status == "confirmed" and not event.source:
        return here
    p = phrases(locale)
    lines = [here]
    if event.status != "confirmed":
        lines.append(p.status_line.format(status=status_text(event.status, locale)))
    if event.source:
        lines.append(p.source_line.format(source=event.source))
    return "\n".join(lines)
