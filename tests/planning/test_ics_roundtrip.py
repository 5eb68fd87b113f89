"""The export round-trips: alertd's iCalendar export, read back by alertd's own feed reader, is the same events,
occurrences and alarms (issue 16 §4). Differential: both sides are alertd's real code, compared occurrence by
occurrence over the whole window a feed reads, across both DST changes of the year."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from support.factories import from_file, offsets
from support.series_events import SERIES_EVENTS

from alertd.calendar.ical import feed_events
from alertd.calendar.sources import LOOKBACK
from alertd.domain import Defaults, EventSpec, SourceSpec
from alertd.planning import plan_reminders, with_occurrences
from alertd.planning.ics import render_calendar
from alertd.planning.recurrence import SERIES_MARK

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HORIZON = timedelta(days=400)
ZONE = "America/New_York"
CALENDAR = (
    f"""\
version: 1
timezone: {ZONE}
defaults: {{reminders: [7d, 1d, 2h], countdown: false}}
channels:
  hooks: {{type: console}}
events:
  - id: board-meeting
    title: Board meeting
    at: 2026-03-09T08:00
  - id: offsite
    title: Offsite (maybe)
    at: 2026-06-15T10:30
    status: tentative
  - id: dropped
    title: Dropped review
    at: 2026-04-02T14:00
    status: cancelled
  - id: late-shift
    title: Late shift handover (second 01:30)
    at: 2026-11-01T01:30-05:00
  - id: tax-day
    title: Tax day
    at: 2026-04-15
    reminders: [3d, 0d]
  - id: sunday-review
    title: Sunday review (all day, both DST changes fall on a Sunday)
    at: 2026-01-04
    repeat: FREQ=WEEKLY;BYDAY=SU
    reminders: [0d, 1d]
"""
    + SERIES_EVENTS
    + "    reminders: [7d, 1d]\n"
)
SOURCE = SourceSpec(
    id="back",
    url="https://calendar.example.com/alertd.ics",
    path=None,
    refresh=timedelta(minutes=15),
    timezone=ZONE,
    reminders=offsets("1d"),
    notify=(),
)
DEFAULTS = Defaults(reminders=(), all_day_at=time(9, 0), countdown=None, notify=())


def feed_id(event_id: str) -> str:
    """The id the feed reader gives an exported event: the export's UID is ``<id>@alertd``, an occurrence's
    original date follows it."""
    head, mark, day = event_id.partition(SERIES_MARK)
    return f"{SOURCE.id}:{head}@alertd" + (f"@{day}" if mark else "")


@pytest.fixture(name="trip")
def trip_fixture(tmp_path: Path) -> tuple[dict[str, EventSpec], dict[str, EventSpec], str]:
    """alertd's own occurrences in the window a feed reads, the feed reader's reading of the export, the export."""
    cal = from_file(tmp_path, CALENDAR)
    start, end = NOW - LOOKBACK, NOW + HORIZON
    planned = with_occurrences(cal, start=start, end=end).events
    ours = {feed_id(e.id): e for e in planned if start <= e.starts_at < end}
    text = render_calendar(cal.events, cal, NOW)
    read = feed_events(text.encode(), SOURCE, DEFAULTS, now=NOW, horizon=HORIZON)
    assert read.skipped == []
    return ours, {e.id: e for e in read.events}, text


def test_the_same_occurrences_come_back_under_ids_derived_from_alertds(trip: Any) -> None:
    ours, theirs, _ = trip
    assert set(theirs) == set(ours)
    assert f"{SOURCE.id}:month-end@alertd@20260424" not in theirs  # the except: date
    assert len([i for i in ours if "backup" in i]) == 15


def test_each_occurrence_starts_at_the_same_instant_with_the_same_title_and_status(trip: Any) -> None:
    ours, theirs, _ = trip
    for key, event in ours.items():
        back = theirs[key]
        assert (back.starts_at, back.all_day, back.title, back.status) == (
            event.starts_at,
            event.all_day,
            event.title,
            event.status,
        ), key


def test_the_moved_the_repeated_hour_and_the_spring_forward_gap_occurrences_come_back_where_alertd_put_them(
    trip: Any,
) -> None:
    _, theirs, _ = trip
    moved = theirs[f"{SOURCE.id}:month-end@alertd@20260327"]
    assert (moved.title, moved.local_start) == ("Q1 close", datetime(2026, 3, 30, 10, 0))
    repeated = theirs[f"{SOURCE.id}:late-shift@alertd"]
    assert repeated.starts_at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    gap = theirs[f"{SOURCE.id}:backup@alertd@20260308"]
    assert gap.starts_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_the_exported_alarms_fire_when_alertd_plans_the_reminders(trip: Any) -> None:
    """Each occurrence's VALARMs, evaluated against the start the feed reader gave it (RFC 5545: a relative
    trigger's days are nominal, its time part exact; a DATE start is midnight in the feed's zone)."""
    ours, theirs, text = trip
    vevents: list[Any] = icalendar.Calendar.from_ical(text).events
    checked = 0
    for key, event in ours.items():
        fired = _fired(theirs[key], _component(vevents, key))
        assert fired == sorted(p.due_at for p in plan_reminders(event, ["x"])), key
        checked += bool(fired)
    assert checked == len([e for e in ours.values() if e.status != "cancelled"]) > 25  # cancelled ones have none


def _component(vevents: list[Any], key: str) -> Any:
    """The exported VEVENT that describes one occurrence: its override (by RECURRENCE-ID) or its series' master."""
    uid, _, day = key.removeprefix(f"{SOURCE.id}:").removesuffix("@alertd").partition("@alertd@")
    mine = [v for v in vevents if str(v["UID"]) == f"{uid}@alertd"]
    for vevent in mine:
        original = vevent.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in vevent else None
        if original is not None and f"{original:%Y%m%d}" == day:
            return vevent
    return next(v for v in mine if "RECURRENCE-ID" not in v)


def _fired(back: EventSpec, vevent: Any) -> list[datetime]:
    tz = ZoneInfo(back.timezone)
    start = back.local_start.replace(tzinfo=tz)  # a DATE start: midnight in the feed's zone
    fired = []
    for alarm in vevent.walk("VALARM"):
        trigger = alarm.decoded("TRIGGER")
        if isinstance(trigger, datetime):
            fired.append(trigger.astimezone(UTC))
            continue
        sign = -1 if trigger < timedelta() else 1
        days = timedelta(days=abs(trigger).days)
        # Aware arithmetic keeps the wall clock (nominal days); the rest is added to the instant (exact). Adding
        # nothing keeps the start's fold (the second 01:30), which any addition would reset.
        base = start + sign * days if days else start
        fired.append(base.astimezone(UTC) + sign * (abs(trigger) - days))
    return sorted(fired)


def test_an_all_day_occurrence_comes_back_as_a_date(trip: Any) -> None:
    _, theirs, _ = trip
    filing = theirs[f"{SOURCE.id}:filing@alertd@20260331"]
    assert (filing.all_day, filing.local_start.date()) == (True, date(2026, 3, 31))
    assert theirs[f"{SOURCE.id}:tax-day@alertd"].all_day
