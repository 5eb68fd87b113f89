"""The words of every notification: one renderer per kind, shared by all channels and by ``alertd plan``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Kind, Message
from alertd.timeexpr import localize, zone

__all__ = [
    "countdown_line",
    "describe_change",
    "format_day",
    "format_when",
    "relative_text",
    "render",
]


def format_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def format_when(event: EventSpec, tz_name: str | None = None) -> str:
    """The event's time in its own zone, e.g. ``Thu 30 Oct 2025 11:00 KST (Asia/Seoul)``; in ``tz_name`` if given."""
    if event.all_day:
        text = f"{format_day(event.local_start.date())} (all day, {event.timezone})"
        return text if tz_name is None or tz_name == event.timezone else ""
    name = tz_name or event.timezone
    local = event.starts_at.astimezone(zone(name))
    return f"{format_day(local.date())} {local:%H:%M %Z} ({name})"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def relative_text(seconds: int, days: int, all_day: bool) -> str:
    """Human wording for how far away an event is: ``in 3 days``, ``tomorrow``, ``today``, ``in 2 hours``."""
    if days < 0 or (not all_day and seconds < -60):
        ago = -days if all_day or seconds < -86400 else 0
        if ago:
            return "yesterday" if ago == 1 else f"{_plural(ago, 'day')} ago"
        mins = -seconds // 60
        return f"started {_plural(mins // 60, 'hour')} ago" if mins >= 60 else f"started {_plural(mins, 'minute')} ago"
    if days == 0:
        if all_day or seconds >= 6 * 3600:
            return "today"
        if seconds < 60:
            return "now"
        mins = (seconds + 59) // 60
        return f"in {_plural(round(mins / 60), 'hour')}" if mins >= 90 else f"in {_plural(mins, 'minute')}"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def countdown_line(event: EventSpec, now: datetime, tz_name: str) -> CountdownLine:
    """How far ``event`` is from ``now`` in seconds and in calendar days."""
    # An all-day event is a date in its own zone, so its days are counted there; a timed one in the reader's.
    tz = zone(event.timezone if event.all_day else tz_name)
    today = now.astimezone(tz).date()
    day = event.local_start.date() if event.all_day else event.starts_at.astimezone(tz).date()
    seconds = int((event.starts_at - now).total_seconds())
    days = (day - today).days
    return CountdownLine(event=event, seconds=seconds, days=days, text=relative_text(seconds, days, event.all_day))


def _snapshot_when(snap: Mapping[str, Any]) -> str:
    local = datetime.fromisoformat(snap["local_start"])
    if snap["all_day"]:
        return format_day(local.date())
    return f"{format_day(local.date())} {local:%H:%M}"


def describe_change(change: Mapping[str, Any]) -> str:
    """One sentence for a change notice, e.g. ``moved from Sat 1 Nov 2025 to Mon 10 Nov 2025``."""
    kind = change.get("type")
    before, after = change.get("before") or {}, change.get("after") or {}
    parts: list[str] = []
    if kind == "added":
        return f"added to the calendar for {_snapshot_when(after)}"
    if kind == "removed":
        return "removed from the calendar; its reminders are cancelled"
    if before.get("local_start") != after.get("local_start") or before.get("timezone") != after.get("timezone"):
        parts.append(f"moved from {_snapshot_when(before)} to {_snapshot_when(after)}")
    if before.get("status") != after.get("status"):
        parts.append(f"status changed from {before.get('status')} to {after.get('status')}")
    if before.get("title") != after.get("title"):
        parts.append(f"renamed from “{before.get('title')}”")
    return "; ".join(parts) or "details changed"


def _event_text(event: EventSpec, channel: ChannelSpec) -> str:
    when = format_when(event)
    other = format_when(event, channel.timezone) if channel.timezone != event.timezone else ""
    lines = [when + (f" = {other}" if other else "")]
    if event.status != "confirmed":
        lines.append(f"Status: {event.status}")
    if event.source:
        lines.append(f"Source: {event.source}")
    return "\n".join(lines)


def render(
    *,
    id: str,
    kind: Kind,
    channel: ChannelSpec,
    due_at: datetime,
    now: datetime,
    event: EventSpec | None = None,
    offset: str | None = None,
    payload: Mapping[str, Any] | None = None,
    digest: Iterable[EventSpec] = (),
    late: bool = False,
) -> Message:
    """Build the message for one notification as it would be sent at ``now``."""
    base: dict[str, Any] = {
        "id": id,
        "kind": kind,
        "channel": channel.id,
        "due_at": due_at,
        "sent_at": now,
        "late": late,
        "offset": offset,
        "event": event,
        "channel_timezone": channel.timezone,
    }
    if kind == "countdown":
        lines = sorted(
            (countdown_line(e, now, channel.timezone) for e in digest), key=lambda line: line.event.starts_at
        )
        day = due_at.astimezone(zone(channel.timezone)).date()
        body = [f"• {ln.event.title} — {ln.text} ({format_day(ln.event.local_start.date())})" for ln in lines]
        return Message(**base, title=f"Countdown for {format_day(day)}", text="\n".join(body), lines=tuple(lines))
    if kind == "test":
        return Message(
            **base,
            title="alertd test notification",
            text=f"This is a test from alertd to channel {channel.id!r}. If you can read it, delivery works.",
        )
    if event is None:
        raise ValueError(f"{kind} notification {id} has no event")
    line = countdown_line(event, now, channel.timezone)
    if kind == "change":
        change = dict(payload or {})
        sentence = describe_change(change)
        return Message(
            **base | {"offset": None},
            title=f"Changed: {event.title}",
            text=f"{event.title}: {sentence}.\n{_event_text(event, channel)}",
            countdown=line,
            change=change,
        )
    return Message(
        **base,
        title=f"{event.title} — {line.text}",
        text=f"{event.title} {line.text}.\n{_event_text(event, channel)}",
        countdown=line,
    )


def day_window(day: date, tz_name: str, days: int) -> tuple[datetime, datetime]:
    """UTC bounds of ``days`` whole local days starting at ``day`` in ``tz_name``."""
    tz = zone(tz_name)
    start = localize(datetime.combine(day, datetime.min.time()), tz)
    end = localize(datetime.combine(day + timedelta(days=days), datetime.min.time()), tz)
    return start, end
