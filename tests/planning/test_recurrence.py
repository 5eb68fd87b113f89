"""Occurrences of recurring events: which, when (in the event's wall time, across DST), and under which ids."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dateutil import rrule as du_rrule
from dateutil import tz as du_tz

from alertd.calendar.load import parse_calendar
from alertd.domain import Calendar, EventSpec, Series
from alertd.planning.recurrence import expand, occurrence_id, series_id, with_occurrences

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 12, 31, tzinfo=UTC)


def parse(body: str, zone: str = "America/New_York") -> Calendar:
    text = f"version: 1\ntimezone: {zone}\nevents:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    calendar, _ = parse_calendar(text, name="calendar.yaml", environ={})
    return calendar


def one(body: str) -> Series:
    (series,) = parse(body).series
    return series


def occurrences(series: Series, start: datetime = START, end: datetime = END) -> list[EventSpec]:
    return list(expand(series, start=start, end=end))


def test_monthly_last_friday_at_five_local() -> None:
    """FREQ=MONTHLY;BYDAY=-1FR: the last Friday of each month at 17:00 New York time, EST or EDT as it falls."""
    series = one("- id: month-end\n  title: M\n  at: 2026-01-30T17:00\n  repeat: FREQ=MONTHLY;BYDAY=-1FR\n")
    found = occurrences(series, end=datetime(2026, 5, 1, tzinfo=UTC))
    assert [e.id for e in found] == [
        "month-end@20260130",
        "month-end@20260227",
        "month-end@20260327",
        "month-end@20260424",
    ]
    assert [e.starts_at.hour for e in found] == [22, 22, 21, 21]  # 17:00 EST, then 17:00 EDT from March 8
    assert {e.local_start.hour for e in found} == {17}


def test_yearly_march_31_with_count() -> None:
    """BYMONTH=3;BYMONTHDAY=31;COUNT=3: three all-day filings, each starting at the local midnight of its day."""
    series = one("- id: filing\n  title: F\n  at: 2026-03-31\n  repeat: FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31;COUNT=3\n")
    found = occurrences(series, end=datetime(2035, 1, 1, tzinfo=UTC))
    assert [e.id for e in found] == ["filing@20260331", "filing@20270331", "filing@20280331"]
    assert all(e.all_day for e in found)
    assert found[0].starts_at == datetime(2026, 3, 31, 4, 0, tzinfo=UTC)


def test_until_is_a_local_date_and_includes_that_day() -> None:
    series = one("- id: filing\n  title: F\n  at: 2026-03-31T12:00\n  repeat: FREQ=YEARLY;UNTIL=20280331\n")
    found = occurrences(series, end=datetime(2035, 1, 1, tzinfo=UTC))
    assert [e.id for e in found] == ["filing@20260331", "filing@20270331", "filing@20280331"]


def test_except_dates_leave_no_occurrence() -> None:
    series = one("- id: w\n  title: W\n  at: 2026-01-05T09:00\n  repeat: FREQ=WEEKLY;COUNT=4\n  except: [2026-01-12]\n")
    assert [e.id for e in occurrences(series)] == ["w@20260105", "w@20260119", "w@20260126"]


def test_a_moved_occurrence_keeps_the_id_of_its_original_date() -> None:
    """An override moves one occurrence, titles it and cancels another; the rest are untouched."""
    series = one(
        """\
        - id: month-end
          title: Month-end report
          at: 2026-01-30T17:00
          repeat: FREQ=MONTHLY;BYDAY=-1FR;COUNT=4
          occurrences:
            2026-02-27: {at: 2026-03-02T10:00, title: February close}
            2026-03-27: {status: cancelled}
        """
    )
    found = {e.id: e for e in occurrences(series)}
    moved = found["month-end@20260227"]
    assert (moved.local_start, moved.title) == (datetime(2026, 3, 2, 10, 0), "February close")
    assert moved.status == "confirmed"
    assert found["month-end@20260327"].status == "cancelled"
    assert found["month-end@20260424"].title == "Month-end report"
    assert found["month-end@20260130"] == replace(series.event, id="month-end@20260130")


def test_daily_nine_oclock_stays_nine_across_the_fall_back_night_differential() -> None:
    """Every day at 09:00 New York over 2025-11-02 is 09:00 local each day: compared with dateutil's own expansion
    in its own zone implementation (dateutil.tz), converted to UTC independently of zoneinfo."""
    series = one("- id: standup\n  title: S\n  at: 2025-10-25T09:00\n  repeat: FREQ=DAILY;COUNT=20\n")
    ours = [e.starts_at for e in occurrences(series, start=datetime(2025, 10, 1, tzinfo=UTC))]
    new_york = du_tz.gettz("America/New_York")
    theirs = [
        moment.astimezone(du_tz.UTC)
        for moment in du_rrule.rrule(du_rrule.DAILY, count=20, dtstart=datetime(2025, 10, 25, 9, 0, tzinfo=new_york))
    ]
    assert ours == theirs
    assert ours[8] - ours[7] == timedelta(hours=25)  # Nov 1 → Nov 2: the day the clocks go back is 25 hours long
    assert {m.astimezone(new_york).hour for m in ours} == {9}


def test_an_occurrence_in_the_spring_forward_gap_takes_the_offset_from_before_the_gap() -> None:
    """02:30 on 2026-03-08 does not exist in New York: RFC 5545 reads it with EST (-05:00), i.e. 07:30Z (03:30 EDT)."""
    series = one("- id: backup\n  title: B\n  at: 2026-03-06T02:30\n  repeat: FREQ=DAILY;COUNT=4\n")
    found = {e.id: e for e in occurrences(series)}
    gap = found["backup@20260308"]
    assert gap.starts_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert found["backup@20260307"].starts_at == datetime(2026, 3, 7, 7, 30, tzinfo=UTC)
    assert found["backup@20260309"].starts_at == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)


def test_the_window_bounds_an_unending_rule() -> None:
    """A daily rule with no end gives only the occurrences in the window asked for, however late it is asked."""
    series = one("- id: d\n  title: D\n  at: 2026-01-01T09:00\n  repeat: FREQ=DAILY\n")
    late = datetime(2040, 6, 1, tzinfo=UTC)
    found = occurrences(series, start=late, end=late + timedelta(days=400))
    assert len(found) == 400
    assert found[0].id == "d@20400601"


def test_with_occurrences_adds_them_beside_the_one_off_events() -> None:
    calendar = parse(
        "- id: once\n  title: O\n  at: 2026-02-01\n- id: d\n  title: D\n  at: 2026-01-30T09:00\n  repeat: FREQ=DAILY\n"
    )
    found = with_occurrences(calendar, start=START, end=datetime(2026, 2, 1, tzinfo=UTC))
    assert [e.id for e in found.events] == ["once", "d@20260130", "d@20260131"]
    assert with_occurrences(found, start=START, end=datetime(2026, 2, 1, tzinfo=UTC)) == found


def test_occurrence_ids_name_their_series() -> None:
    assert occurrence_id("quarterly-filing", datetime(2026, 3, 31).date()) == "quarterly-filing@20260331"
    assert series_id("quarterly-filing@20260331") == "quarterly-filing"
    assert series_id("truce-expiry") is None
