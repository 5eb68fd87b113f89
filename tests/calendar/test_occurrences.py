"""Recurrence expansion of feed events (RRULE, RDATE, EXDATE, RECURRENCE-ID) on the series' wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from support.factories import offsets

from alertd.calendar.ical import feed_events
from alertd.domain import Defaults, EventSpec, SourceSpec

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
DEFAULTS = Defaults(reminders=(), all_day_at=time(9, 0), countdown=None, notify=())
SOURCE = SourceSpec(
    id="s",
    url="https://example.com/x.ics",
    path=None,
    refresh=timedelta(minutes=15),
    timezone="America/New_York",
    reminders=offsets("1d"),
    notify=(),
)
NY = "America/New_York"


def read(*lines: str) -> dict[str, EventSpec]:
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *lines, "END:VCALENDAR"]) + "\r\n"
    return {e.id: e for e in feed_events(text.encode(), SOURCE, DEFAULTS, now=NOW, horizon=timedelta(days=400)).events}


def event(uid: str, *lines: str) -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}", "SUMMARY:Thing", *lines, "END:VEVENT"]


def test_until_in_utc_ends_a_zoned_series_on_its_last_wall_clock_occurrence() -> None:
    found = read(*event("u", f"DTSTART;TZID={NY}:20251101T090000", "RRULE:FREQ=DAILY;UNTIL=20251103T140000Z"))
    assert sorted(found) == ["s:u@20251101", "s:u@20251102", "s:u@20251103"]
    assert found["s:u@20251103"].starts_at == datetime(2025, 11, 3, 14, 0, tzinfo=UTC)


def test_rdate_adds_occurrences_to_a_rule() -> None:
    found = read(
        *event(
            "r", f"DTSTART;TZID={NY}:20251101T090000", "RRULE:FREQ=WEEKLY;COUNT=2", f"RDATE;TZID={NY}:20251104T100000"
        )
    )
    assert sorted(found) == ["s:r@20251101", "s:r@20251104", "s:r@20251108"]
    assert found["s:r@20251104"].local_start == datetime(2025, 11, 4, 10, 0)


def test_rdate_alone_makes_a_series_with_its_start() -> None:
    found = read(*event("only", "DTSTART;VALUE=DATE:20251101", "RDATE;VALUE=DATE:20251115,20251129"))
    assert sorted(found) == ["s:only@20251101", "s:only@20251115", "s:only@20251129"]
    assert all(e.all_day for e in found.values())


def test_an_all_day_series_excludes_a_date() -> None:
    found = read(*event("a", "DTSTART;VALUE=DATE:20251101", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE;VALUE=DATE:20251102"))
    assert sorted(found) == ["s:a@20251101", "s:a@20251103"]


def test_a_feed_with_only_an_overridden_occurrence_still_has_it() -> None:
    found = read(
        *event(
            "lone", f"RECURRENCE-ID;TZID={NY}:20251110T090000", f"DTSTART;TZID={NY}:20251111T090000", "STATUS:TENTATIVE"
        )
    )
    (only,) = found.values()
    assert (only.id, only.status, only.local_start) == ("s:lone@20251110", "tentative", datetime(2025, 11, 11, 9, 0))


def test_a_series_with_an_unreadable_rule_is_skipped_and_the_rest_is_read() -> None:
    text = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//t//EN",
            *event("bad", "DTSTART:20251101T090000Z", "RRULE:FREQ=WEEKLY;BYDAY=XX"),
            *event("good", "DTSTART:20251101T090000Z"),
            "END:VCALENDAR",
        ]
    )
    read_ = feed_events(text.encode(), SOURCE, DEFAULTS, now=NOW, horizon=timedelta(days=400))
    assert [e.id for e in read_.events] == ["s:good"]
    assert read_.skipped == ["the series 'bad': its recurrence cannot be read (ValueError)"]


def test_a_series_started_years_ago_yields_only_what_is_in_the_window() -> None:
    found = read(*event("old", f"DTSTART;TZID={NY}:20100104T090000", "RRULE:FREQ=WEEKLY;BYDAY=MO"))
    starts = sorted(e.starts_at for e in found.values())
    assert starts[0] >= NOW - timedelta(days=1)
    assert 55 <= len(starts) <= 59


def test_an_override_naming_its_occurrence_in_utc_keeps_the_series_local_date() -> None:
    """Google writes RECURRENCE-ID in UTC: 02:00Z on the 11th is the 21:00 New York occurrence of the 10th."""
    found = read(
        *event("g", f"DTSTART;TZID={NY}:20251103T210000", "RRULE:FREQ=WEEKLY;COUNT=3"),
        *event("g", "RECURRENCE-ID:20251111T020000Z", f"DTSTART;TZID={NY}:20251111T090000"),
    )
    assert sorted(found) == ["s:g@20251103", "s:g@20251110", "s:g@20251117"]
    assert found["s:g@20251110"].local_start == datetime(2025, 11, 11, 9, 0)


def test_a_thisandfuture_override_moves_the_rest_of_the_series_under_their_own_ids() -> None:
    found = read(
        *event("t", f"DTSTART;TZID={NY}:20251103T090000", "RRULE:FREQ=DAILY;COUNT=4"),
        *event(
            "t", f"RECURRENCE-ID;RANGE=THISANDFUTURE;TZID={NY}:20251105T090000", f"DTSTART;TZID={NY}:20251105T110000"
        ),
    )
    hours = {i: e.local_start.hour for i, e in found.items()}
    assert hours == {"s:t@20251103": 9, "s:t@20251104": 9, "s:t@20251105": 11, "s:t@20251106": 11}


def test_the_copy_of_an_event_with_the_highest_sequence_wins() -> None:
    found = read(
        *event("q", "SEQUENCE:2", f"DTSTART;TZID={NY}:20251104T090000"),
        *event("q", "SEQUENCE:0", f"DTSTART;TZID={NY}:20251103T090000"),
    )
    assert [(i, e.local_start) for i, e in found.items()] == [("s:q", datetime(2025, 11, 4, 9, 0))]


def test_an_exdate_also_removes_an_override_of_that_occurrence() -> None:
    found = read(
        *event(
            "x", f"DTSTART;TZID={NY}:20251103T090000", "RRULE:FREQ=DAILY;COUNT=3", f"EXDATE;TZID={NY}:20251104T090000"
        ),
        *event("x", f"RECURRENCE-ID;TZID={NY}:20251104T090000", f"DTSTART;TZID={NY}:20251104T110000"),
    )
    assert sorted(found) == ["s:x@20251103", "s:x@20251105"]


def test_an_hourly_rule_multiplied_by_minutes_is_skipped_as_too_frequent() -> None:
    text = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//t//EN",
            *event("dense", "DTSTART:20251101T090000Z", "RRULE:FREQ=HOURLY;BYMINUTE=0,15,30,45"),
            *event("twice", f"DTSTART;TZID={NY}:20251101T090000", "RRULE:FREQ=DAILY;COUNT=4;BYHOUR=9;BYMINUTE=0,30"),
            "END:VCALENDAR",
        ]
    )
    read_ = feed_events(text.encode(), SOURCE, DEFAULTS, now=NOW, horizon=timedelta(days=400))
    assert read_.skipped == ["the series 'dense': it repeats more often than hourly"]
    assert [e.local_start for e in read_.events] == [
        datetime(2025, 11, 1, 9, 0),
        datetime(2025, 11, 1, 9, 30),
        datetime(2025, 11, 2, 9, 0),
        datetime(2025, 11, 2, 9, 30),
    ]


def test_a_series_whose_end_comes_before_its_start_still_starts_at_dtstart() -> None:
    found = read(
        *event(
            "b", f"DTSTART;TZID={NY}:20251103T100000", f"DTEND;TZID={NY}:20251103T090000", "RRULE:FREQ=DAILY;COUNT=2"
        )
    )
    assert [e.local_start for e in found.values()] == [datetime(2025, 11, 3, 10, 0), datetime(2025, 11, 4, 10, 0)]


def test_a_dated_series_with_a_timed_end_stays_all_day() -> None:
    found = read(
        *event("c", "DTSTART;VALUE=DATE:20251103", f"DTEND;TZID={NY}:20251103T090000", "RRULE:FREQ=DAILY;COUNT=2")
    )
    assert [(e.all_day, e.local_start) for e in found.values()] == [
        (True, datetime(2025, 11, 3)),
        (True, datetime(2025, 11, 4)),
    ]


def test_a_daily_rule_with_more_than_24_times_a_day_is_skipped_as_too_frequent() -> None:
    hours = ",".join(str(h) for h in range(24))
    rule = f"RRULE:FREQ=DAILY;BYHOUR={hours};BYMINUTE=0,30"
    text = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *event("d", "DTSTART:20251101T000000Z", rule)]
    )
    read_ = feed_events(
        (text + "\r\nEND:VCALENDAR\r\n").encode(), SOURCE, DEFAULTS, now=NOW, horizon=timedelta(days=400)
    )
    assert (read_.events, read_.skipped) == ([], ["the series 'd': it repeats more often than hourly"])
