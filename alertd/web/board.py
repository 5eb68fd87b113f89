"""The board's countdown cards, built from events at ``now``: pure, so a fixed instant gives a fixed board.

Wording comes from alertd's message parts (the same "tomorrow" a reminder says), in the viewer's language, counted
in the viewer's zone when the browser told us one and in the event's own zone otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from alertd.domain import EventSpec
from alertd.messages import all_day_end, countdown_line, format_when, status_text

__all__ = ["STATUSES", "Board", "Card", "NextSend", "build_board"]

STATUSES = ("tentative", "confirmed", "postponed", "cancelled")


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


@dataclass(frozen=True, slots=True)
class Board:
    upcoming: list[Card]
    # Past and cancelled events: shown folded away below the upcoming ones.
    folded: list[Card]
    tags: list[str]


def _ended(event: EventSpec, now: datetime) -> bool:
    return (all_day_end(event) if event.all_day else event.starts_at) <= now


def _card(event: EventSpec, now: datetime, zone: str | None, locale: str, next_send: NextSend | None) -> Card:
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
) -> Board:
    """Cards for ``events`` in start order, filtered by ``tag`` and ``status`` when given."""
    upcoming: list[Card] = []
    folded: list[Card] = []
    tags: set[str] = set()
    for event in sorted(events, key=lambda e: (e.starts_at, e.id)):
        tags.update(event.tags)
        if (tag and tag not in event.tags) or (status and event.status != status):
            continue
        card = _card(event, now, zone, locale, next_sends.get(event.id))
        (folded if card.past or event.status == "cancelled" else upcoming).append(card)
    # Most recent first among the folded: yesterday's event matters more than last year's.
    folded.reverse()
    return Board(upcoming=upcoming, folded=folded, tags=sorted(tags))
