"""Business days per occurrence of a recurring event: ``if_closed`` moves each occurrence off its own closed day and
``Nbd`` counts from each occurrence's own date, checked against an independent computation with ``holidays``."""

from __future__ import annotations

import logging
import textwrap
import time
from calendar import monthrange
from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from alertd.calendar.load import parse_calendar
from alertd.domain import Calendar, EventSpec, Series
from alertd.planning import plan_reminders, with_occurrences
from alertd.planning.recurrence import expand, series_lag, series_lead
from alertd.timeexpr import localize, zone

NEW_YORK = zone("America/New_York")
HEAD = "version: 1\ntimezone: America/New_York\nworkdays: {country: US}\nevents:\n"


def parse(body: str, head: str = HEAD) -> Calendar:
    calendar, _ = parse_calendar(head + textwrap.indent(textwrap.dedent(body), "  "), name="c.yaml", environ={})
    return calendar


def one(body: str, head: str = HEAD) -> Series:
    (series,) = parse(body, head).series
    return series


def between(series: Series, first: date, last: date) -> list[EventSpec]:
    start = datetime.combine(first, datetime.min.time(), UTC)
    return list(expand(series, start=start, end=datetime.combine(last, datetime.max.time(), UTC)))


def us_business_day_on_or_before(day: date) -> date:
    """The independent answer: the holidays package's US federal calendar, weekends closed."""
    closed = holidays.country_holidays("US", years=range(day.year - 1, day.year + 2))
    while day.weekday() >= 5 or day in closed:
        day -= timedelta(days=1)
    return day


def month_ends(first_year: int, last_year: int) -> list[date]:
    return [date(y, m, monthrange(y, m)[1]) for y in range(first_year, last_year + 1) for m in range(1, 13)]


MONTH_END = """\
- id: month-end
  title: Month-end close
  at: 2025-01-31T17:00
  if_closed: previous
  repeat: FREQ=MONTHLY;BYMONTHDAY=-1
"""


def test_the_last_business_day_of_each_month_2025_to_2027_matches_the_holidays_package() -> None:
    found = between(one(MONTH_END), date(2025, 1, 1), date(2027, 12, 31))
    ends = month_ends(2025, 2027)
    assert [e.id for e in found] == [f"month-end@{d:%Y%m%d}" for d in ends]
    assert [e.local_start.date() for e in found] == [us_business_day_on_or_before(d) for d in ends]
    assert {e.local_start.time().isoformat() for e in found} == {"17:00:00"}
    # The rule's dates include weekends, so this is no vacuous check: several months really moved.
    assert sum(e.local_start.date() != d for e, d in zip(found, ends, strict=True)) >= 10


def test_a_moved_occurrence_starts_at_its_wall_time_on_the_new_day_and_says_why() -> None:
    """2025-05-31 is a Saturday: the occurrence keeps its id and is due Friday 17:00 EDT."""
    (may,) = between(one(MONTH_END), date(2025, 5, 25), date(2025, 6, 5))
    assert may.id == "month-end@20250531"
    assert may.starts_at == datetime(2025, 5, 30, 21, 0, tzinfo=UTC)
    assert may.notes is not None
    assert "Moved from Sat 2025-05-31" in may.notes


def test_a_series_whose_first_date_is_closed_loads_and_moves_that_occurrence_too() -> None:
    """The file's ``at`` is the rule's first date as written, even when that day is closed."""
    series = one(MONTH_END.replace("2025-01-31", "2025-05-31"))
    assert series.event.local_start == datetime(2025, 5, 31, 17, 0)
    first = between(series, date(2025, 5, 1), date(2025, 6, 1))
    assert [(e.id, e.local_start.date()) for e in first] == [("month-end@20250531", date(2025, 5, 30))]


def test_a_quarterly_filing_on_the_31st_or_the_previous_business_day_with_an_office_closure() -> None:
    head = HEAD.replace("{country: US}", "{country: US, closed: [2026-12-31]}")
    series = one(
        "- id: filing\n  title: Quarterly filing\n  at: 2025-03-31\n  if_closed: previous\n"
        "  repeat: FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1\n",
        head,
    )
    found = {e.id: e.local_start.date() for e in between(series, date(2025, 1, 1), date(2029, 12, 31))}
    moved = {eid: day for eid, day in found.items() if eid != f"filing@{day:%Y%m%d}"}
    assert moved == {
        "filing@20261231": date(2026, 12, 30),  # the office's own closure
        "filing@20271231": date(2027, 12, 30),  # New Year's Day 2028 (a Saturday) observed on Friday
        "filing@20280930": date(2028, 9, 29),  # Saturday
        "filing@20281231": date(2028, 12, 29),  # Sunday
        "filing@20290331": date(2029, 3, 30),  # Saturday
        "filing@20290630": date(2029, 6, 29),  # Saturday
        "filing@20290930": date(2029, 9, 28),  # Sunday
    }
    assert len(found) == 20


def test_if_closed_next_moves_a_weekend_occurrence_to_monday() -> None:
    series = one(
        "- id: tax\n  title: Estimated tax\n  at: 2025-01-15\n  if_closed: next\n"
        "  repeat: FREQ=YEARLY;BYMONTH=1,4,6,9;BYMONTHDAY=15\n"
    )
    found = {e.id: e.local_start.date() for e in between(series, date(2025, 1, 1), date(2025, 12, 31))}
    assert found == {
        "tax@20250115": date(2025, 1, 15),
        "tax@20250415": date(2025, 4, 15),
        "tax@20250615": date(2025, 6, 16),  # Sunday
        "tax@20250915": date(2025, 9, 15),
    }


WEEKLY_3BD = """\
- id: report
  title: Weekly report
  at: 2025-10-28T17:00
  reminders: [3bd]
  repeat: FREQ=WEEKLY;BYDAY=TU;COUNT=6
"""


def test_a_3bd_reminder_is_counted_per_occurrence_across_thanksgiving_and_the_dst_end() -> None:
    """Three US business days before each Tuesday 17:00, at 17:00 New York time that day (EDT or EST as it falls).

    Tue Nov 4 looks back across the 2025-11-02 clock change to Thu Oct 30 (EDT); Tue Dec 2 looks back across
    Thanksgiving (Thu Nov 27) to Wed Nov 26, six days instead of five.
    """
    found = between(one(WEEKLY_3BD), date(2025, 10, 1), date(2025, 12, 31))
    due = {e.id: next(iter(plan_reminders(e, ["c"]))).due_at for e in found}
    days = {
        "report@20251028": date(2025, 10, 23),
        "report@20251104": date(2025, 10, 30),
        "report@20251111": date(2025, 11, 6),
        "report@20251118": date(2025, 11, 13),
        "report@20251125": date(2025, 11, 20),
        "report@20251202": date(2025, 11, 26),
    }
    assert due == {
        eid: localize(datetime.combine(d, datetime.min.time().replace(hour=17)), NEW_YORK) for eid, d in days.items()
    }
    assert due["report@20251104"] == datetime(2025, 10, 30, 21, 0, tzinfo=UTC)  # 17:00 EDT
    assert due["report@20251202"] == datetime(2025, 11, 26, 22, 0, tzinfo=UTC)  # 17:00 EST
    assert [o.stored for e in found for o in e.reminders][-1] == "3bd=6d"


def test_an_override_at_is_taken_as_written_and_not_moved_off_a_closed_day() -> None:
    """The person wrote Sunday: if_closed leaves it there; its 3bd is counted from that Sunday."""
    body = MONTH_END + "  reminders: [3bd]\n  occurrences:\n    2025-05-31: {at: 2025-06-01T10:00}\n"
    (may,) = between(one(body), date(2025, 5, 25), date(2025, 6, 5))
    assert may.local_start == datetime(2025, 6, 1, 10, 0)
    assert not may.notes
    assert [o.stored for o in may.reminders] == ["3bd=4d"]  # Wed May 28


def test_an_override_of_the_title_only_is_still_moved_off_the_closed_day() -> None:
    body = MONTH_END + "  occurrences:\n    2025-05-31: {title: May close}\n"
    (may,) = between(one(body), date(2025, 5, 25), date(2025, 6, 5))
    assert (may.title, may.local_start) == ("May close", datetime(2025, 5, 30, 17, 0))


def test_a_window_finds_an_occurrence_moved_into_it_from_a_day_after_it() -> None:
    """Sat 2025-05-31 lands on Fri 05-30: a window ending Friday evening holds it."""
    end = datetime(2025, 5, 30, 23, 0, tzinfo=UTC)
    found = list(expand(one(MONTH_END), start=datetime(2025, 5, 29, tzinfo=UTC), end=end))
    assert [e.id for e in found] == ["month-end@20250531"]


def test_a_preview_by_due_time_finds_an_occurrence_by_its_business_day_reminder() -> None:
    """The 3bd reminder of Tue Dec 2 falls on Wed Nov 26; a window of that Wednesday alone holds it."""
    calendar = parse(WEEKLY_3BD)
    start, end = datetime(2025, 11, 26, 12, tzinfo=UTC), datetime(2025, 11, 27, tzinfo=UTC)
    found = with_occurrences(calendar, start=start, end=end, by_due=True).events
    assert "report@20251202" in [e.id for e in found]


def test_an_occurrence_with_no_business_day_in_reach_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A file closing every day from 2026 on for over ten years: the 2025 occurrences stand, later ones are logged."""
    closed = [date(2026, 1, 1) + timedelta(days=i) for i in range(3700)]
    head = HEAD.replace("{country: US}", "{country: US, closed: [" + ", ".join(map(str, closed)) + "]}")
    series = one(MONTH_END.replace("previous", "next"), head)
    with caplog.at_level(logging.WARNING, logger="alertd.recurrence"):
        found = between(series, date(2025, 10, 1), date(2026, 3, 31))
    assert [e.id for e in found] == ["month-end@20251031", "month-end@20251130", "month-end@20251231"]
    assert any(
        "no business day within" in r.getMessage() and "month-end@20260131" in r.getMessage() for r in caplog.records
    )


def test_an_occurrence_moved_onto_the_spring_forward_night_takes_the_offset_from_before_the_gap() -> None:
    """With a Friday-Saturday weekend, Sat 2026-03-07 02:30 moves to Sun 03-08 02:30, which New York skips: it is
    read as RFC 5545 reads a time in a gap, 02:30 EST = 07:30 UTC (03:30 EDT)."""
    head = HEAD.replace("{country: US}", "{country: US, weekend: [fri, sat]}")
    series = one("- id: job\n  title: J\n  at: 2026-02-28T02:30\n  if_closed: next\n  repeat: FREQ=WEEKLY\n", head)
    found = {e.id: e for e in between(series, date(2026, 3, 1), date(2026, 3, 10))}
    moved = found["job@20260307"]
    assert moved.local_start == datetime(2026, 3, 8, 2, 30)
    assert moved.starts_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_a_year_of_a_daily_rule_with_if_closed_and_3bd_expands_quickly() -> None:
    """Every occurrence is settled on its own: 400 days of a daily rule stay well inside a sync's time budget."""
    series = one(
        "- id: d\n  title: D\n  at: 2026-01-01T09:00\n  if_closed: next\n  reminders: [3bd, 1d]\n  repeat: FREQ=DAILY\n"
    )
    began = time.perf_counter()
    found = between(series, date(2026, 1, 1), date(2027, 2, 4))
    elapsed = time.perf_counter() - began
    assert len(found) == 400
    assert elapsed < 1.0


def test_a_file_wide_workdays_alone_leaves_a_series_on_the_rule_dates() -> None:
    """Without if_closed or a bd offset, Sat 2025-05-31 stays Saturday and has no "Moved" note."""
    (may,) = between(one(MONTH_END.replace("  if_closed: previous\n", "")), date(2025, 5, 25), date(2025, 6, 5))
    assert (may.local_start, may.notes) == (datetime(2025, 5, 31, 17, 0), None)


def test_the_window_bounds_cover_every_occurrences_business_day_reminders() -> None:
    """series_lead/series_lag bound an uncounted 3bd/+2bd without a date: over three years of a last-business-day
    rule, no occurrence's reminder falls further from its start than the window allows."""
    series = one(MONTH_END + "  reminders: [3bd, +2bd]\n")
    found = between(series, date(2025, 1, 1), date(2027, 12, 31))
    before = max(e.starts_at - p.due_at for e in found for p in plan_reminders(e, ["c"]) if p.due_at < e.starts_at)
    after = max(p.due_at - e.starts_at for e in found for p in plan_reminders(e, ["c"]) if p.due_at > e.starts_at)
    assert timedelta(days=5) <= before <= series_lead(series)
    assert timedelta(days=4) <= after <= series_lag(series)
