"""The board's countdown cards, built from events at ``now``: pure, so a fixed instant gives a fixed board.

Wording comes from alertd's message parts (the same "tomorrow" a reminder says), in the viewer's language, counted
in the viewer's zone when the browser told us one and in the event's own zone otherwise.

A recurring event (a file's ``repeat:`` or a feed's RRULE) is stored as one event per occurrence, ~400 for a daily
rule; the board shows one card per series (its next occurrence, with how many more follow) unless asked for that
series alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from alertd.calendar import source_of
from alertd.domain import EventSpec
from alertd.messages import all_day_end, countdown_line, format_when, status_text

__all__ = ["STATUSES", "Board", "Card", "NextSend", "build_board", "series_of"]

STATUSES = ("tentative", "confirmed", "postponed", "cancelled")
# The last "@" and a date (or a date and time for a series within a day): feed UIDs may hold an "@" themselves.
_OCCURRENCE = re.compile(r"^(.+)@\d{8}(?:T\d{4})?$")


def series_of(event_id: str) -> str | None:
    """The series an occurrence belongs to (``standup@20260105`` → ``standup``), None for a single event."""
    found = _OCCURRENCE.match(event_id)
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class NextSend:
    """The next notification queued for an event."""

    due_at: datetime
    channel: str
    kind: str


@dataclass(frozen=True, slots=True)
class Card:
    event: EventSpec
    countdown: str
    seconds: int
    status: str
    when_own: str
    # In the viewer's zone; empty when that is the event's own zone (or the same whole day for an all-day event).
    when_viewer: str
    next_send: NextSend | None
    next_when: str
    past: bool
    # The series' id for an occurrence of a recurring event, and how many more of its occurrences the card stands
    # for (the rest of the series in the same section of the board).
    series: str | None = None
    more: int = 0
    # The source id of a calendar feed's event: the feed is where it is edited.
    feed: str | None = None


@dataclass(frozen=True, slots=True)
class Board:
    upcoming: list[Card]
    # Past and cancelled events: shown folded away below the upcoming ones.
    folded: list[Card]
    tags: list[str]


def _ended(event: EventSpec, now: datetime) -> bool:
    return (all_day_end(event) if event.all_day else event.starts_at) <= now


def _card(
    event: EventSpec,
    now: datetime,
    zone: str | None,
    locale: str,
    next_send: NextSend | None,
    series: str | None,
    more: int,
) -> Card:
    reader = zone or event.timezone
    line = countdown_line(event, now, reader, locale=locale)
    viewer = format_when(event, zone, locale=locale) if zone and zone != event.timezone else ""
    next_when = ""
    if next_send is not None:
        local = next_send.due_at.astimezone(ZoneInfo(reader))
        next_when = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return Card(
        event=event,
        countdown=line.text,
        seconds=line.seconds,
        status=status_text(event.status, locale),
        when_own=format_when(event, locale=locale),
        when_viewer=viewer,
        next_send=next_send,
        next_when=next_when,
        past=_ended(event, now),
        series=series,
        more=more,
        feed=source_of(event.id) if event.owner == "feed" else None,
    )


def build_board(
    events: Iterable[EventSpec],
    *,
    now: datetime,
    zone: str | None,
    locale: str,
    next_sends: Mapping[str, NextSend],
    tag: str | None = None,
    status: str | None = None,
    series: str | None = None,
) -> Board:
    """Cards for ``events`` in start order, filtered by ``tag`` and ``status`` when given; one card per recurring
    series unless ``series`` asks for every occurrence of that one."""
    upcoming: list[Card] = []
    folded: list[Card] = []
    tags: set[str] = set()
    # Per (section, series): the index of its card there, so later occurrences only add to its count.
    shown: dict[tuple[bool, str], int] = {}
    for event in sorted(events, key=lambda e: (e.starts_at, e.id)):
        tags.update(event.tags)
        if (tag and tag not in event.tags) or (status and event.status != status):
            continue
        sid = series_of(event.id)
        if series is not None and sid != series:
            continue
        away = _ended(event, now) or event.status == "cancelled"
        section = folded if away else upcoming
        key = (away, sid or "")
        if sid is not None and series is None and key in shown:
            at = shown[key]
            card = section[at]
            # The folded keep the newest past occurrence: later ones replace the card, counting the one before.
            section[at] = (
                _card(event, now, zone, locale, next_sends.get(event.id), sid, card.more + 1)
                if away
                else replace(card, more=card.more + 1)
            )
            continue
        if sid is not None:
            shown[key] = len(section)
        section.append(_card(event, now, zone, locale, next_sends.get(event.id), sid, 0))
    # Most recent first among the folded: yesterday's event matters more than last year's.
    folded.sort(key=lambda c: (c.event.starts_at, c.event.id), reverse=True)
    return Board(upcoming=upcoming, folded=folded, tags=sorted(tags))
