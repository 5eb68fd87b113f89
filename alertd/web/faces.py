"""The parts of a board card that do not change with the clock, worked out once per event and viewer and kept.

A card's countdown moves every minute, but its dates in words, its links and its end instant only change when the
event does, so a board rendered again after a delivery (the usual reason) reuses them. The key is everything a face
is made from, so a changed event can never be shown with an old face, on this replica or another.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from alertd.calendar import source_of
from alertd.domain import EventSpec
from alertd.messages import all_day_end, format_when, status_text

__all__ = ["CardFace", "FaceMemo", "card_face", "series_of"]


@dataclass(frozen=True, slots=True)
class CardFace:
    href: str
    start_iso: str
    status: str
    when_own: str
    # In the viewer's zone; empty when that is the event's own zone (or the same whole day for an all-day event).
    when_viewer: str
    # When the event stops being upcoming: its start, or the end of its day for an all-day event.
    ends_at: datetime
    # (tag, link to the board filtered by it)
    tag_links: tuple[tuple[str, str], ...]
    # The source id of a calendar feed's event: the feed is where it is edited.
    feed: str | None
    # The series' id for an occurrence of a recurring event.
    series: str | None


def series_of(event_id: str) -> str | None:
    """The series an occurrence belongs to (``standup@20260105`` → ``standup``, ``desk:uid@host@20251117`` →
    ``desk:uid@host``: a feed's UID may hold an "@" itself), None for a single event."""
    head, mark, stamp = event_id.rpartition("@")
    # A date, or a date and time for a series repeating within a day.
    if not mark or not head or len(stamp) not in (8, 13) or not stamp[:8].isdigit():
        return None
    if len(stamp) == 13 and not (stamp[8] == "T" and stamp[9:].isdigit()):
        return None
    return head


def card_face(event: EventSpec, zone: str | None, locale: str) -> CardFace:
    return CardFace(
        href="/events/" + quote(event.id, safe=""),
        start_iso=event.starts_at.isoformat(),
        status=status_text(event.status, locale),
        when_own=format_when(event, locale=locale),
        when_viewer=format_when(event, zone, locale=locale) if zone and zone != event.timezone else "",
        ends_at=all_day_end(event) if event.all_day else event.starts_at,
        tag_links=tuple((t, "/?tag=" + quote(t, safe="")) for t in event.tags),
        feed=source_of(event.id) if event.owner == "feed" else None,
        series=series_of(event.id),
    )


class FaceMemo:
    """Faces by what they are made of; at most ``size`` (about 0.5 kB each; then it starts afresh). Safe to use
    from several reader threads at once."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._faces: dict[Hashable, CardFace] = {}
        self._lock = threading.Lock()

    def face(self, event: EventSpec, zone: str | None, locale: str) -> CardFace:
        key = (
            event.id,
            event.starts_at,
            event.local_start,
            event.all_day,
            event.timezone,
            event.status,
            event.tags,
            event.owner,
            zone,
            locale,
        )
        found = self._faces.get(key)
        if found is None:
            found = card_face(event, zone, locale)
            with self._lock:
                if len(self._faces) >= self.size:
                    self._faces.clear()
                self._faces[key] = found
        return found
