"""How a sync treats occurrences of recurring events: the rolling window, quiet arrivals and departures, and one
change notice per series per sync.

The sync stores occurrences inside a window that moves with time: from just before ``now`` (an occurrence stays
while a follow-up may still fire) to ``now`` plus ``ALERTD_RECURRENCE_HORIZON`` days. An occurrence that enters the
window because time passed is news to no one and is stored quietly; one that leaves it into the past is deleted
quietly (its sent notifications stay in history), so a rule without an end keeps at most about horizon/interval
rows however long the daemon runs. Occurrences that appear, move or vanish because the file changed are announced,
but an edit of a rule touches many of them at once: only the earliest upcoming one per series is announced (the
rest are re-planned all the same and logged), so moving a daily meeting by an hour is one message, not 400.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import repeat
from operator import attrgetter, contains

import sqlalchemy as sa

from alertd.domain import Calendar, EventSpec, Planned
from alertd.planning import SERIES_MARK, expand, series_id, series_lag
from alertd.storage.models import Meta

__all__ = ["WINDOW_END", "SeriesNotices", "Window", "read_window_end", "window_calendar", "write_window_end"]

META = Meta.__table__  # type: ignore[attr-defined]
# Meta key: the end of the last sync's window, so the next one tells arrivals by time from arrivals by edit.
WINDOW_END = "recurrence_until"
_LAG = timedelta(days=1)

log = logging.getLogger("alertd.sync")


class Window:
    """The occurrence window of one sync: each series' lower bound, the upper bound and the last sync's end."""

    def __init__(self, calendar: Calendar, *, now: datetime, horizon_days: int, previous_end: datetime | None):
        self.now = now
        self.end = now + timedelta(days=horizon_days)
        self.previous_end = previous_end
        self.lags = {s.event.id: series_lag(s) for s in calendar.series}

    def retired(self, event_id: str, starts_at: datetime) -> bool:
        """Whether a stored occurrence absent from the calendar has passed out of the window into the past."""
        series = series_id(event_id)
        return series is not None and starts_at < self.now - self.lags.get(series, _LAG)

    def beyond(self, event_id: str, starts_at: datetime) -> bool:
        """Whether a stored occurrence absent from the calendar lies past the window (the horizon shrank)."""
        return SERIES_MARK in event_id and starts_at > self.end

    def quiet_arrival(self, event: EventSpec) -> bool:
        """An occurrence that is new only because the window rolled forward over it, or one already past."""
        if SERIES_MARK not in event.id:
            return False
        return event.starts_at < self.now or (self.previous_end is not None and event.starts_at > self.previous_end)


def window_calendar(calendar: Calendar, *, now: datetime, horizon_days: int) -> Calendar:
    """``calendar`` with the occurrences a sync at ``now`` stores among its events."""
    end = now + timedelta(days=horizon_days)
    occurrences = [o for s in calendar.series for o in expand(s, start=now - series_lag(s), end=end)]
    if not occurrences:
        return calendar
    ordinary = calendar.events
    # File events never carry the mark (their ids cannot): asked in C, that spares a Python step per event.
    if any(map(contains, map(attrgetter("id"), ordinary), repeat(SERIES_MARK))):
        ordinary = tuple(e for e in ordinary if SERIES_MARK not in e.id)
    return Calendar(
        path=calendar.path,
        timezone=calendar.timezone,
        defaults=calendar.defaults,
        channels=calendar.channels,
        events=(*ordinary, *occurrences),
        admin=calendar.admin,
        series=calendar.series,
    )


class SeriesNotices:
    """Holds the change notices of occurrences back until the sync's end, then lets one per series through."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.held: dict[str, list[tuple[tuple[bool, datetime], list[Planned]]]] = {}

    def offer(self, event: EventSpec, planned: list[Planned]) -> list[Planned]:
        """``planned`` if ``event`` is an ordinary event; held (and an empty list) for an occurrence."""
        series = series_id(event.id)
        if series is None or not planned:
            return planned
        # Upcoming occurrences first, earliest first.
        self.held.setdefault(series, []).append(((event.starts_at < self.now, event.starts_at), planned))
        return []

    def release(self) -> list[Planned]:
        chosen: list[Planned] = []
        for series, offers in self.held.items():
            offers.sort(key=lambda offer: offer[0])
            chosen.extend(offers[0][1])
            if len(offers) > 1:
                log.info("%s: %d more occurrences changed; announced the earliest only", series, len(offers) - 1)
        self.held = {}
        return chosen


def read_window_end(conn: sa.Connection) -> datetime | None:
    value = conn.execute(sa.select(META.c.value).where(META.c.key == WINDOW_END)).scalar()
    return datetime.fromisoformat(value) if value else None


def write_window_end(conn: sa.Connection, end: datetime) -> None:
    if conn.execute(META.update().where(META.c.key == WINDOW_END).values(value=end.isoformat())).rowcount == 0:
        conn.execute(META.insert().values(key=WINDOW_END, value=end.isoformat()))
