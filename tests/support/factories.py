"""Builders of domain values with sensible defaults; pass keywords to change what a test is about.

The defaults follow the SPEC §5 example: an all-day event on 10 Nov 2025 in New York and its 1-day reminder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from alertd.calendar import load_calendar
from alertd.domain import Calendar, ChannelSpec, CountdownLine, CountdownSpec, Defaults, EventSpec, Kind, Message
from alertd.messages import format_day
from alertd.timeexpr import Offset, day_start, parse_offset, zone

__all__ = ["from_file", "make_calendar", "make_channel", "make_event", "make_line", "make_message", "offsets"]

DUE = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)


def make_event(
    id: str = "truce-expiry",
    *,
    title: str = "Trade truce expires",
    local_start: datetime = datetime(2025, 11, 10),
    timezone: str = "America/New_York",
    all_day: bool = True,
    starts_at: datetime | None = None,
    status: str = "confirmed",
    tags: tuple[str, ...] = ("trade",),
    source: str | None = "https://example.org/truce",
    **extra: Any,
) -> EventSpec:
    """An event; ``starts_at`` is derived from ``local_start`` (naive wall clock, its ``fold`` honoured) in
    ``timezone``, or is the first instant of its day for an all-day event."""
    tz = zone(timezone)
    derived = day_start(local_start.date(), tz) if all_day else local_start.replace(tzinfo=tz).astimezone(UTC)
    return EventSpec(
        id=id,
        title=title,
        local_start=local_start,
        all_day=all_day,
        timezone=timezone,
        starts_at=starts_at or derived,
        status=status,
        tags=tags,
        source=source,
        **extra,
    )


def make_line(
    event: EventSpec | None = None, *, seconds: int = 54000, text: str = "tomorrow", locale: str = "en"
) -> CountdownLine:
    """How far ``event`` is; ``days`` is derived from ``seconds``, the date it counts to is the event's own."""
    event = event or make_event()
    own = event.starts_at.astimezone(zone(event.timezone)).date()
    return CountdownLine(
        event=event, seconds=seconds, days=seconds // 86400, text=text, day=own, day_text=format_day(own, locale)
    )


def make_message(
    id: str = "ntf_01J9Z3ZK7Q",
    *,
    kind: Kind = "reminder",
    channel: str = "hooks",
    title: str = "Trade truce expires tomorrow",
    text: str = "Trade truce expires tomorrow (Mon 10 Nov 2025, all day).",
    due_at: datetime = DUE,
    sent_at: datetime | None = None,
    late: bool = False,
    event: EventSpec | None = None,
    offset: str | None = "1d",
    countdown: CountdownLine | None = None,
    lines: tuple[CountdownLine, ...] = (),
    change: Mapping[str, Any] | None = None,
    channel_timezone: str = "UTC",
) -> Message:
    """A message: by default the 1-day reminder of :func:`make_event` (digests get no event)."""
    if event is None and kind in ("reminder", "change"):
        event = make_event()
    if countdown is None and kind == "reminder" and event is not None:
        countdown = make_line(event)
    return Message(
        id=id,
        kind=kind,
        channel=channel,
        title=title,
        text=text,
        due_at=due_at,
        sent_at=sent_at or due_at + timedelta(seconds=2),
        late=late,
        event=event,
        offset=offset,
        countdown=countdown,
        lines=lines,
        change=change,
        channel_timezone=channel_timezone,
    )


def make_channel(
    type: str = "webhook",
    *,
    id: str = "hooks",
    timezone: str = "UTC",
    options: Mapping[str, Any] | None = None,
) -> ChannelSpec:
    """A channel spec with the given (unvalidated) options."""
    return ChannelSpec(id=id, type=type, timezone=timezone, options=dict(options or {}))


def offsets(*texts: str) -> tuple[Offset, ...]:
    """Reminder offsets as the calendar loader would parse them, e.g. ``offsets("7d", "2h")``."""
    return tuple(parse_offset(t) for t in texts)


def make_calendar(
    events: Iterable[EventSpec] = (),
    *,
    channels: Iterable[ChannelSpec] | None = None,
    countdown: CountdownSpec | None = None,
    timezone: str = "America/New_York",
) -> Calendar:
    """A validated-looking calendar; by default one UTC webhook channel ``hooks`` and no countdown."""
    chans = list(channels) if channels is not None else [make_channel()]
    return Calendar(
        path="calendar.yaml",
        timezone=timezone,
        defaults=Defaults(reminders=(), all_day_at=time(9, 0), countdown=countdown, notify=()),
        channels={c.id: c for c in chans},
        events=tuple(events),
    )


def from_file(folder: Path, text: str) -> Calendar:
    """The calendar ``text`` as alertd loads it from a file in ``folder`` (its warnings are not kept)."""
    path = folder / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    calendar, _ = load_calendar(path, environ={})
    return calendar
