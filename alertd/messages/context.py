"""The variables a channel template sees, built from the default rendering of a message.

Templates get plain values (text, numbers, lists, mappings), never live objects: what they can reach is exactly
what :data:`VARIABLES` documents, and the sandbox has nothing else to guard.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alertd.clock import utc_text
from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Kind, Message, event_snapshot
from alertd.messages.default import render_default
from alertd.messages.i18n import format_day, format_time, offset_text, status_text
from alertd.messages.parts import describe_change, when_both
from alertd.timeexpr import zone

__all__ = ["VARIABLES", "sample_message", "template_context"]

# Name → what it holds; docs/messages.md lists the same. A template naming anything else fails ``alertd check``.
VARIABLES: dict[str, str] = {
    "kind": "reminder, countdown, change or test",
    "id": "the notification's stable id",
    "channel": "the channel id",
    "locale": "the channel's locale, e.g. zh",
    "late": "true when sent after its due time (catch-up)",
    "due_at": "due instant, UTC, ISO 8601 with Z",
    "sent_at": "send instant, UTC, ISO 8601 with Z",
    "due_local": "due day and time in the channel's zone, localized",
    "title": "the default title (wrap or extend it)",
    "text": "the default text",
    "event": "id, title, status, status_text, tags, source, notes, all_day, timezone, starts_at, local_start, "
    "day, time (null for countdown and test)",
    "countdown": "seconds, days, text, day (the reader's date it counts to, and the event's own where it differs) "
    "(null for countdown and test)",
    "offset": "the reminder offset as written, e.g. 1d (null for other kinds)",
    "offset_text": "the offset in words, e.g. 1 day before",
    "when_event_zone": "the event's time in its own zone",
    "when_channel_zone": "the event's time in the channel's zone (for an all-day event the stretch its date covers "
    "there), empty when it reads the same",
    "when": "when_event_zone, then ' = ' and when_channel_zone if that is not empty",
    "change": "type (added, changed, renamed, removed), before, after (null unless kind is change)",
    "change_text": "the change in one sentence, e.g. moved from Sat 1 Nov 2025 to Mon 10 Nov 2025",
    "lines": "countdown digest entries: event, seconds, days, text, day (empty for other kinds)",
    "day": "the digest's day in the channel's zone, localized (countdown only)",
}


def _event(event: EventSpec, locale: str) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": event.title,
        "status": event.status,
        "status_text": status_text(event.status, locale),
        "tags": list(event.tags),
        "source": event.source,
        "notes": event.notes,
        "all_day": event.all_day,
        "timezone": event.timezone,
        "starts_at": utc_text(event.starts_at),
        "local_start": event.local_start.isoformat(),
        "day": format_day(event.local_start.date(), locale),
        "time": "" if event.all_day else format_time(event.starts_at.astimezone(zone(event.timezone)), locale),
    }


def _line(line: CountdownLine) -> dict[str, Any]:
    return {"seconds": line.seconds, "days": line.days, "text": line.text, "day": line.day_text}


def template_context(message: Message) -> dict[str, Any]:
    """Every variable of :data:`VARIABLES` for ``message`` (its title and text are the default rendering)."""
    locale, tz_name = message.locale, message.channel_timezone
    due = message.due_at.astimezone(zone(tz_name))
    here, there = when_both(message.event, tz_name, locale) if message.event is not None else ("", "")
    change = dict(message.change) if message.change is not None else None
    return {
        "kind": message.kind,
        "id": message.id,
        "channel": message.channel,
        "locale": locale,
        "late": message.late,
        "due_at": utc_text(message.due_at),
        "sent_at": utc_text(message.sent_at),
        "due_local": f"{format_day(due.date(), locale)} {format_time(due, locale)}",
        "title": message.title,
        "text": message.text,
        "event": _event(message.event, locale) if message.event is not None else None,
        "countdown": _line(message.countdown) if message.countdown is not None else None,
        "offset": message.offset,
        "offset_text": offset_text(message.offset, locale),
        "when_event_zone": here,
        "when_channel_zone": there,
        "when": here + (f" = {there}" if there else ""),
        "change": change,
        "change_text": describe_change(change, locale=locale) if change is not None else "",
        "lines": [_line(ln) | {"event": _event(ln.event, locale)} for ln in message.lines],
        "day": format_day(due.date(), locale) if message.kind == "countdown" else "",
    }


def _sample_event(**extra: Any) -> EventSpec:
    values: dict[str, Any] = {
        "id": "sample-summit",
        "title": "Sample summit",
        "local_start": datetime(2025, 10, 30, 11, 0),
        "all_day": False,
        "timezone": "Asia/Seoul",
        "starts_at": datetime(2025, 10, 30, 2, 0, tzinfo=UTC),
        "status": "tentative",
        "tags": ("trade",),
        "source": "https://example.com/article",
        "notes": "Sample notes.",
    } | extra
    return EventSpec(**values)


_SAMPLE_ADMIN = {
    "title": "Channel desk is failing",
    "text": "alertd: channel desk is failing since 2025-10-29 09:00Z: HTTP 404 no_service.",
}


def sample_message(kind: Kind, channel: ChannelSpec) -> Message:
    """A realistic message of ``kind`` for ``channel``, used to trial-render its templates at load time."""
    after = _sample_event()
    before = _sample_event(
        title="Sample meeting",
        local_start=after.local_start - timedelta(days=1),
        starts_at=after.starts_at - timedelta(days=1),
    )
    due = after.starts_at - timedelta(days=1)
    change = {"type": "changed", "before": event_snapshot(before), "after": event_snapshot(after)}
    return render_default(
        id=f"sample:{kind}",
        kind=kind,
        channel=channel,
        due_at=due,
        now=due,
        event=None if kind in ("countdown", "test", "admin") else after,
        offset="1d" if kind == "reminder" else None,
        payload=change if kind == "change" else _SAMPLE_ADMIN if kind == "admin" else None,
        digest=(after,) if kind == "countdown" else (),
    )
