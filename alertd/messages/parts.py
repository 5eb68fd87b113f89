"""Pieces every renderer shares, worded in the reader's locale: event times, distances, change sentences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alertd.domain import CountdownLine, EventSpec
from alertd.messages.i18n import DEFAULT_LOCALE, format_day, format_time, phrases, relative_text, status_text
from alertd.timeexpr import zone

__all__ = [
    "countdown_line",
    "describe_change",
    "event_details",
    "format_when",
    "moved_whens",
    "snapshot_when",
    "when_both",
]


def format_when(event: EventSpec, tz_name: str | None = None, *, locale: str = DEFAULT_LOCALE) -> str:
    """The event's time in its own zone, e.g. ``Thu 30 Oct 2025 11:00 KST (Asia/Seoul)``; in ``tz_name`` if given.

    An all-day event is a date in its own zone, so it has no rendering in another zone (empty string).
    """
    if event.all_day:
        day = format_day(event.local_start.date(), locale)
        text = f"{day} ({phrases(locale).all_day}, {event.timezone})"
        return text if tz_name is None or tz_name == event.timezone else ""
    name = tz_name or event.timezone
    local = event.starts_at.astimezone(zone(name))
    # The tz database abbreviation (KST, EDT) is the same in every language, so it is kept beside the IANA name.
    return f"{format_day(local.date(), locale)} {format_time(local, locale)} {local.tzname()} ({name})"


def when_both(event: EventSpec, tz_name: str, locale: str) -> tuple[str, str]:
    """The time in the event's zone and, when different, in ``tz_name`` (else ``""``), SPEC §3."""
    other = format_when(event, tz_name, locale=locale) if tz_name != event.timezone else ""
    return format_when(event, locale=locale), other


def countdown_line(event: EventSpec, now: datetime, tz_name: str, *, locale: str = DEFAULT_LOCALE) -> CountdownLine:
    """How far ``event`` is from ``now`` in seconds and in calendar days, worded in ``locale``."""
    # Days are counted from the reader's own date, the date a digest is titled with. An all-day event is a date
    # (in its own zone), so it is compared as that date; a timed one by its start's date in the reader's zone.
    tz = zone(tz_name)
    today = now.astimezone(tz).date()
    day = event.local_start.date() if event.all_day else event.starts_at.astimezone(tz).date()
    seconds = int((event.starts_at - now).total_seconds())
    days = (day - today).days
    text = relative_text(seconds, days, event.all_day, locale)
    return CountdownLine(event=event, seconds=seconds, days=days, text=text)


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
    p = phrases(locale)
    here, there = when_both(event, tz_name, locale)
    lines = [here + (f" = {there}" if there else "")]
    if event.status != "confirmed":
        lines.append(p.status_line.format(status=status_text(event.status, locale)))
    if event.source:
        lines.append(p.source_line.format(source=event.source))
    return "\n".join(lines)
