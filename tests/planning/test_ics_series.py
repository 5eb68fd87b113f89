"""Recurring events in the iCalendar export: one master with RRULE and EXDATE, overrides by RECURRENCE-ID, and a
round trip (export → icalendar → dateutil's expansion) that gives back alertd's own occurrences and alarms."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from dateutil.rrule import rrulestr
from support.factories import from_file
from support.series_events import SERIES_EVENTS

from alertd.domain import Calendar
from alertd.planning import plan_reminders, with_occurrences
from alertd.planning.ics import render_calendar

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CALENDAR = (
    """\
version: 1
timezone: America/New_York
defaults: {reminders: [7d, 1d, 2h], countdown: false}
channels:
  hooks: {type: console}
events:
"""
    + SERIES_EVENTS
)


def calendar(tmp_path: Path) -> Calendar:
    return from_file(tmp_path, CALENDAR)


def components(text: str, uid: str) -> list[Any]:
    """The VEVENTs of one UID (typed loosely: icalendar types each property as a union of every value type)."""
    return [e for e in icalendar.Calendar.from_ical(text).events if str(e["UID"]) == f"{uid}@alertd"]


def test_a_series_is_one_master_with_rrule_and_exdate(tmp_path: Path) -> None:
    text = render_calendar([], calendar(tmp_path), NOW)
    master, *instances = components(text, "month-end")
    assert master["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=-1FR"
    assert master.decoded("DTSTART") == datetime(2026, 1, 30, 17, 0, tzinfo=master.decoded("DTSTART").tzinfo)
    assert str(master["DTSTART"].params["TZID"]) == "America/New_York"
    assert [d.dt.replace(tzinfo=None) for d in master["EXDATE"].dts] == [datetime(2026, 4, 24, 17, 0)]
    assert len(instances) == 2


def test_overridden_occurrences_carry_a_recurrence_id(tmp_path: Path) -> None:
    text = render_calendar([], calendar(tmp_path), NOW)
    _, moved, cancelled = components(text, "month-end")
    assert moved.decoded("RECURRENCE-ID").replace(tzinfo=None) == datetime(2026, 3, 27, 17, 0)
    assert moved.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 3, 30, 10, 0)
    assert str(moved["SUMMARY"]) == "Q1 close"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.walk("VALARM") == []


def test_until_is_written_in_utc_beside_a_zoned_start(tmp_path: Path) -> None:
    """RFC 5545: with a TZID start, UNTIL is a UTC time; the file's UNTIL=20260315 means the end of that local day."""
    (master,) = components(render_calendar([], calendar(tmp_path), NOW), "backup")
    assert master["RRULE"]["UNTIL"] == [datetime(2026, 3, 16, 3, 59, 59, tzinfo=UTC)]


def test_stored_occurrences_are_not_exported_twice(tmp_path: Path) -> None:
    cal = calendar(tmp_path)
    expanded = with_occurrences(cal, start=NOW, end=NOW + timedelta(days=60))
    text = render_calendar(expanded.events, cal, NOW)
    assert (
        len(icalendar.Calendar.from_ical(text).events) == len(render_calendar([], cal, NOW).split("BEGIN:VEVENT")) - 1
    )


def _read_back(text: str, until: datetime) -> dict[tuple[str, date], dict[str, Any]]:
    """Each occurrence the exported text describes up to ``until``, expanded by dateutil from the parsed RRULE,
    EXDATE and RECURRENCE-ID (RFC 5545 §3.8.5), keyed by series and original local date."""
    found: dict[tuple[str, date], dict[str, Any]] = {}
    events: list[Any] = icalendar.Calendar.from_ical(text).events
    for master in (e for e in events if "RRULE" in e):
        uid = str(master["UID"]).removesuffix("@alertd")
        start = master.decoded("DTSTART")
        timed = isinstance(start, datetime)
        first = start if timed else datetime.combine(start, datetime.min.time())
        rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=first)
        skipped = {d.dt for d in master["EXDATE"].dts} if "EXDATE" in master else set()
        for moment in rule:
            if (moment if timed else moment.date()) > (until if timed else until.date()):
                break
            if (moment if timed else moment.date()) in skipped:
                continue
            found[(uid, moment.date())] = {"start": moment if timed else moment.date(), "vevent": master}
    for instance in (e for e in events if "RECURRENCE-ID" in e):
        uid = str(instance["UID"]).removesuffix("@alertd")
        original = instance.decoded("RECURRENCE-ID")
        day = original.date() if isinstance(original, datetime) else original
        found[(uid, day)] = {"start": instance.decoded("DTSTART"), "vevent": instance}
    return found


def _fired(start: datetime, vevent: icalendar.Event) -> list[datetime]:
    fired = []
    for alarm in vevent.walk("VALARM"):
        trigger = alarm.decoded("TRIGGER")
        # A relative TRIGGER's nominal days move the wall clock (aware + timedelta), its time part is exact.
        sign = -1 if trigger < timedelta() else 1
        days = timedelta(days=abs(trigger).days)
        fired.append((start + sign * days).astimezone(UTC) + sign * (abs(trigger) - days))
    return sorted(fired)


def test_export_reads_back_as_the_same_occurrences_and_alarms(tmp_path: Path) -> None:
    """Round trip over a year: every occurrence alertd plans is in the export at the same instant, with the same
    status and title, and its alarms fire when alertd's reminders do (across both 2026 DST changes and the
    02:30 that the spring-forward night skips)."""
    cal = calendar(tmp_path)
    until = datetime(2027, 1, 1, tzinfo=UTC)
    ours = with_occurrences(cal, start=datetime(2026, 1, 1, tzinfo=UTC), end=until).events
    theirs = _read_back(render_calendar([], cal, NOW), until)
    named = {(e.id.split("@")[0], datetime.strptime(e.id.split("@")[1], "%Y%m%d").date()) for e in ours}
    assert named == set(theirs)
    checked = 0
    for event in ours:
        uid, stamp = event.id.split("@")
        read = theirs[(uid, datetime.strptime(stamp, "%Y%m%d").date())]
        vevent = read["vevent"]
        if event.all_day:
            assert read["start"] == event.local_start.date()
            continue
        assert read["start"].astimezone(UTC) == event.starts_at, event.id
        assert str(vevent["SUMMARY"]) == event.title
        assert str(vevent["STATUS"]) == {"confirmed": "CONFIRMED", "cancelled": "CANCELLED"}[event.status]
        assert _fired(read["start"], vevent) == sorted(p.due_at for p in plan_reminders(event, ["x"])), event.id
        checked += 1
    assert checked > 20
    gap = next(e for e in ours if e.id == "backup@20260308")
    assert gap.starts_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


BUSINESS_DAYS = """\
version: 1
timezone: America/New_York
workdays: {country: US}
defaults: {countdown: false}
channels:
  hooks: {type: console}
events:
  - id: close
    title: Month-end close
    at: 2026-01-31T17:00
    if_closed: previous
    reminders: [3bd, 2h]
    repeat: FREQ=MONTHLY;BYMONTHDAY=-1
  - id: report
    title: Weekly report
    at: 2026-01-06T09:00
    reminders: [3bd]
    repeat: FREQ=WEEKLY;BYDAY=TU
"""


def test_occurrences_moved_off_closed_days_are_exported_as_recurrence_id_instances(tmp_path: Path) -> None:
    """The master keeps the rule (RRULE cannot say "or the previous business day"); Sat 2026-01-31 is an instance
    for that date starting Friday 17:00, and a month-end on a business day with its usual alarms has none."""
    text = render_calendar([], from_file(tmp_path, BUSINESS_DAYS), NOW)
    master, *instances = components(text, "close")
    assert master["RRULE"].to_ical() == b"FREQ=MONTHLY;BYMONTHDAY=-1"
    assert master.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 1, 31, 17, 0)
    by_day = {i.decoded("RECURRENCE-ID").date(): i for i in instances}
    assert by_day[date(2026, 1, 31)].decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 1, 30, 17, 0)
    assert "Moved from Sat 2026-01-31" in str(by_day[date(2026, 1, 31)]["DESCRIPTION"])
    assert date(2026, 3, 31) not in by_day  # Tuesday: its 3bd is five days back, as most month-ends' are
    assert [str(a["TRIGGER"].to_ical(), "ascii") for a in master.walk("VALARM")] == ["-P5D", "-PT2H"]


def test_a_weekly_3bd_alarm_is_an_instance_only_in_the_weeks_a_holiday_lengthens_it(tmp_path: Path) -> None:
    """Three business days before a Tuesday is the Thursday before (P5D, the master's alarm), except where a
    holiday in between makes it the Wednesday (P6D): only those weeks are written as instances."""
    text = render_calendar([], from_file(tmp_path, BUSINESS_DAYS), NOW)
    master, *instances = components(text, "report")
    assert [str(a["TRIGGER"].to_ical(), "ascii") for a in master.walk("VALARM")] == ["-P5D"]
    in_2026 = {i.decoded("RECURRENCE-ID").date(): i for i in instances if i.decoded("RECURRENCE-ID").year == 2026}
    assert sorted(in_2026) == [
        date(2026, 1, 6),  # New Year's Day, Thu Jan 1
        date(2026, 1, 20),  # Martin Luther King Jr. Day, Mon Jan 19
        date(2026, 2, 17),  # Washington's Birthday, Mon Feb 16
        date(2026, 5, 26),  # Memorial Day, Mon May 25
        date(2026, 6, 23),  # Juneteenth, Fri Jun 19
        date(2026, 7, 7),  # Independence Day observed, Fri Jul 3
        date(2026, 9, 8),  # Labor Day, Mon Sep 7
        date(2026, 10, 13),  # Columbus Day, Mon Oct 12
        date(2026, 12, 1),  # Thanksgiving, Thu Nov 26
        date(2026, 12, 29),  # Christmas Day, Fri Dec 25
    ]
    assert {str(a["TRIGGER"].to_ical(), "ascii") for i in in_2026.values() for a in i.walk("VALARM")} == {"-P6D"}


def test_a_business_day_export_reads_back_as_alertds_occurrences_and_alarms(tmp_path: Path) -> None:
    """Round trip over 2026 with per-occurrence if_closed and 3bd (Thanksgiving, Christmas, both DST changes):
    every occurrence starts, and every alarm fires, when alertd says."""
    cal = from_file(tmp_path, BUSINESS_DAYS)
    until = datetime(2027, 1, 1, tzinfo=UTC)
    ours = with_occurrences(cal, start=datetime(2026, 1, 1, tzinfo=UTC), end=until).events
    # The export's instances reach years ahead; compare the ones of 2026.
    theirs = {k: v for k, v in _read_back(render_calendar([], cal, NOW), until).items() if k[1] < until.date()}
    named = {(e.id.split("@")[0], datetime.strptime(e.id.split("@")[1], "%Y%m%d").date()) for e in ours}
    assert named == set(theirs)
    for event in ours:
        uid, stamp = event.id.split("@")
        read = theirs[(uid, datetime.strptime(stamp, "%Y%m%d").date())]
        assert read["start"].astimezone(UTC) == event.starts_at, event.id
        assert _fired(read["start"], read["vevent"]) == sorted(p.due_at for p in plan_reminders(event, ["x"])), event.id
    assert len(ours) == 12 + 52


def test_a_daily_business_day_rule_exports_a_bounded_number_of_instances_upcoming_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A daily rule with if_closed and 3bd gives most occurrences their own dates or alarms: the export writes at
    most 500 of them, from the export's day on, and says in the log that later ones follow the bare rule."""
    daily = BUSINESS_DAYS.replace("FREQ=WEEKLY;BYDAY=TU", "FREQ=DAILY")
    text = daily.replace("    reminders: [3bd]\n", "    if_closed: next\n    reminders: [3bd]\n", 1)
    with caplog.at_level(logging.WARNING, logger="alertd.ics"):
        exported = render_calendar([], from_file(tmp_path, text), NOW)
    _, *instances = components(exported, "report")
    days = sorted(i.decoded("RECURRENCE-ID").date() for i in instances)
    assert len(days) == 500
    assert days[0] >= NOW.date()
    assert any("report:" in r.getMessage() and "clients show the others" in r.getMessage() for r in caplog.records)


SUNDAYS = """\
version: 1
timezone: America/New_York
defaults: {countdown: false}
channels:
  hooks: {type: console}
events:
  - id: review
    title: Sunday review
    at: 2026-01-04
    reminders: [7d, 0d]
    repeat: FREQ=WEEKLY;BYDAY=SU
"""


def test_all_day_alarms_recur_as_whole_days_then_the_hours_of_one_day(tmp_path: Path) -> None:
    """7d at 09:00 is six nominal days and 15 exact hours back from the date's midnight: no clock change of the
    week between moves it, only one in the evening of the alarm's own day could."""
    master = components(render_calendar([], from_file(tmp_path, SUNDAYS), NOW), "review")[0]

    assert sorted(str(a["TRIGGER"].to_ical(), "ascii") for a in master.walk("VALARM")) == ["-P6DT15H", "PT9H"]


def test_only_the_sundays_a_clock_change_falls_on_become_instances_with_the_planned_instants(tmp_path: Path) -> None:
    """0d is nine exact hours from midnight: on the two Sundays the clocks change, a client would fire it at 10:00
    or 08:00, so those occurrences carry their planned instants (DATE-TIME triggers)."""
    cal = from_file(tmp_path, SUNDAYS)
    _, *instances = components(render_calendar([], cal, NOW), "review")
    days = {i.decoded("RECURRENCE-ID") for i in instances}

    assert {date(2026, 3, 8), date(2026, 11, 1)} <= days
    assert all(d.month in (3, 4, 10, 11) and d.weekday() == 6 for d in days)
    march = next(i for i in instances if i.decoded("RECURRENCE-ID") == date(2026, 3, 8))
    fired = sorted(a.decoded("TRIGGER").astimezone(UTC) for a in march.walk("VALARM"))
    around = with_occurrences(cal, start=datetime(2026, 3, 7, tzinfo=UTC), end=datetime(2026, 3, 9, tzinfo=UTC))
    (planned,) = around.events
    assert fired == sorted(p.due_at for p in plan_reminders(planned, ["x"]))
