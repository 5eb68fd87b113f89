"""The board's countdown cards, built from events at ``now``: pure, so a fixed instant gives a fixed board.

Wording comes from alertd's message parts (the same "tomorrow" a reminder says), in the viewer's language, counted
in the viewer's zone when the browser told us one and in the event's own zone otherwise.

A recurring event (a file's ``repeat:`` or a feed's RRULE) is stored as one event per occurrence, ~400 for a daily
rule; the board shows one card per series (its next occurrence, with how many more follow) unless asked for that
series alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from alertd.domain import EventSpec
from alertd.messages import countdown_line
from alertd.web.faces import CardFace, FaceMemo, series_of

__all__ = ["STATUSES", "Board", "Card", "NextSend", "build_board", "series_of"]

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
    face: CardFace
    countdown: str
    seconds: int
    next_send: NextSend | None
    next_when: str
    past: bool
    # How many more occurrences of the card's series it stands for (the rest of the series in the same section).
    more: int = 0

    @property
    def series(self) -> str | None:
        return self.face.series

    @property
    def feed(self) -> str | None:
        return self.face.feed

    @property
    def when_own(self) -> str:
        return self.face.when_own

    @property
    def when_viewer(self) -> str:
        return self.face.when_viewer

    @property
    def status(self) -> str:
        return self.face.status


@dataclass(frozen=True, slots=True)
class Board:
    upcoming: list[Card]
    # Past and cancelled events: shown folded away below the upcoming ones.
    folded: list[Card]
    tags: list[str]


def _card(
    event: EventSpec,
    face: CardFace,
    now: datetime,
    zone: str | None,
    locale: str,
    next_send: NextSend | None,
    more: int,
) -> Card:
    reader = zone or event.timezone
    line = countdown_line(event, now, reader, locale=locale)
    next_when = ""
    if next_send is not None:
        local = next_send.due_at.astimezone(ZoneInfo(reader))
        next_when = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return Card(
        event=event,
        face=face,
        countdown=line.text,
        seconds=line.seconds,
        next_send=next_send,
        next_when=next_when,
        past=face.ends_at <= now,
        more=more,
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
    faces: FaceMemo | None = None,
) -> Board:
    """Cards for ``events`` in start order, filtered by ``tag`` and ``status`` when given; one card per recurring
    series unless ``series`` asks for every occurrence of that one. ``faces`` keeps the cards' clock-free parts
    between boards."""
    memo = faces or FaceMemo()
    upcoming: list[Card] = []
    folded: list[Card] = []
    tags: set[str] = set()
    # Per (section, series): the index of its card there, so later occurrences only add to its count.
    shown: dict[tuple[bool, str], int] = {}
    for event in sorted(events, key=lambda e: (e.starts_at, e.id)):
        tags.update(event.tags)
        if (tag and tag not in event.tags) or (status and event.status != status):
            continue
        face = memo.face(event, zone, locale)
        sid = face.series
        if series is not None and sid != series:
            continue
        away = face.ends_at <= now or event.status == "cancelled"
        section = folded if away else upcoming
        key = (away, sid or "")
        if sid is not None and series is None and key in shown:
            at = shown[key]
            card = section[at]
            # The folded keep the newest past occurrence: later ones replace the card, counting the one before.
            section[at] = (
                _card(event, face, now, zone, locale, next_sends.get(event.id), card.more + 1)
                if away
                else replace(card, more=card.more + 1)
            )
            continue
        if sid is not None:
            shown[key] = len(section)
        section.append(_card(event, face, now, zone, locale, next_sends.get(event.id), 0))
    # Most recent first among the folded: yesterday's event matters more than last year's.
    folded.sort(key=lambda c: (c.event.starts_at, c.event.id), reverse=True)
    return Board(upcoming=upcoming, folded=folded, tags=sorted(tags))
