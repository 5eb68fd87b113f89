"""alertd.calendar.workdays: the file's ``workdays`` and ``if_closed`` keys and business-day offsets, from the
file to the plan (named apart from tests/test_workdays.py: tests/calendar is not a package, basenames must differ)."""

from __future__ import annotations

import textwrap
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from support.factories import make_event, offsets

from alertd.calendar.drafts import EventDraft, resolve_draft
from alertd.calendar.load import parse_calendar
from alertd.calendar.workdays import MAX_CLOSED, count_business_days, move_off_closed
from alertd.domain import Calendar, EventSpec
from alertd.errors import CalendarError, CalendarIssue
from alertd.planning import event_fingerprint, plan_reminders
from alertd.workdays import WorkdayCalendar

HEAD = """\
version: 1
timezone: America/New_York
"""


def load(body: str, head: str = HEAD) -> Calendar:
    calendar, warnings = parse_calendar(head + textwrap.dedent(body), name="calendar.yaml", environ={})
    assert warnings == []
    return calendar


def issues(body: str, head: str = HEAD) -> list[CalendarIssue]:
    with pytest.raises(CalendarError) as caught:
        parse_calendar(head + textwrap.dedent(body), name="calendar.yaml", environ={})
    return caught.value.issues


def event(calendar: Calendar, eid: str = "filing") -> EventSpec:
    return next(e for e in calendar.events if e.id == eid)


def due(spec: EventSpec) -> dict[str, datetime]:
    """Each reminder's due instant by offset text."""
    return {p.offset or "": p.due_at for p in plan_reminders(spec, ["c"])}


def one_event(at: str, reminders: str = "[3bd]", workdays: str = "{country: US, subdivision: NY}") -> str:
    return f"""\
    workdays: {workdays}
    events:
      - id: filing
        title: Filing
        at: {at}
        reminders: {reminders}
    """


def test_a_3bd_reminder_before_a_monday_deadline_lands_the_wednesday_before_at_the_same_wall_time() -> None:
    spec = event(load(one_event("2025-11-17T17:00")))
    assert due(spec)["3bd"] == datetime(2025, 11, 12, 22, 0, tzinfo=UTC)  # 17:00 EST


def test_a_3bd_reminder_skips_thanksgiving() -> None:
    """Before Monday 2025-12-01: Friday 28th, (Thursday 27th closed) Wednesday 26th, Tuesday 25th."""
    spec = event(load(one_event("2025-12-01T17:00")))
    assert due(spec)["3bd"] == datetime(2025, 11, 25, 22, 0, tzinfo=UTC)


def test_business_days_across_the_dst_end_keep_the_wall_time() -> None:
    """Wednesday 2025-11-05 09:00 EST; three business days before is Friday 2025-10-31 09:00 EDT (13:00Z)."""
    spec = event(load(one_event("2025-11-05T09:00", workdays="{country: US}")))
    assert spec.starts_at == datetime(2025, 11, 5, 14, 0, tzinfo=UTC)
    assert due(spec)["3bd"] == datetime(2025, 10, 31, 13, 0, tzinfo=UTC)


def test_a_business_day_reminder_in_a_dst_gap_takes_the_offset_from_before_the_gap() -> None:
    """With a Friday–Saturday weekend, one business day before Monday 2026-03-09 02:30 is Sunday 02:30, which
    New York skips: RFC 5545 reads it with EST, so 07:30Z (03:30 EDT)."""
    body = one_event("2026-03-09T02:30", "[1bd]", "{country: US, weekend: [fri, sat]}")
    assert due(event(load(body)))["1bd"] == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_an_after_offset_counts_business_days_forward() -> None:
    """+2bd after Wednesday 2025-12-24 09:00: (Christmas skipped) Friday 26th, Monday 29th."""
    spec = event(load(one_event("2025-12-24T09:00", "[+2bd]", "{country: US}")))
    assert due(spec)["+2bd"] == datetime(2025, 12, 29, 14, 0, tzinfo=UTC)


def test_business_days_combine_with_an_exact_part() -> None:
    """3bd12h: three business days earlier at the same wall time, then twelve hours earlier still."""
    spec = event(load(one_event("2025-11-17T17:00", "[3bd12h]")))
    assert due(spec)["3bd12h"] == datetime(2025, 11, 12, 10, 0, tzinfo=UTC)


def test_an_all_day_event_gets_its_business_day_reminder_at_all_day_at() -> None:
    spec = event(load(one_event("2025-12-01")))
    assert due(spec)["3bd"] == datetime(2025, 11, 25, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_chinese_business_days_skip_golden_week_and_count_make_up_days() -> None:
    """Before Thursday 2025-10-09 10:00 in Shanghai, Oct 1–8 are closed: two business days back is Monday
    Sep 29, three is Sunday Sep 28, a make-up working day."""
    body = """\
    workdays: {country: CN}
    events:
      - id: filing
        title: Filing
        at: 2025-10-09T10:00
        timezone: Asia/Shanghai
        reminders: [2bd, 3bd]
    """
    found = due(event(load(body)))
    assert found["2bd"] == datetime(2025, 9, 29, 2, 0, tzinfo=UTC)
    assert found["3bd"] == datetime(2025, 9, 28, 2, 0, tzinfo=UTC)


def test_an_event_on_a_holiday_moves_to_the_previous_business_day_at_the_same_wall_time() -> None:
    """Thanksgiving 2026, 17:00 → Wednesday 17:00; the written date stays in the notes."""
    body = """\
    workdays: {country: US, subdivision: NY}
    events:
      - id: filing
        title: Filing
        at: 2026-11-26T17:00
        if_closed: previous
    """
    spec = event(load(body))
    assert spec.local_start == datetime(2026, 11, 25, 17, 0)
    assert spec.starts_at == datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
    assert spec.notes == "Moved from Thu 2026-11-26 (Thanksgiving Day in US-NY) by if_closed: previous."


def _closed_rule(rule: str, closed: str = "[]") -> str:
    return f"""\
    workdays: {{country: US, closed: {closed}}}
    defaults:
      if_closed: {rule}
    events:
      - id: filing
        title: Filing
        at: 2025-12-25
        notes: File the annual return.
      - id: open
        title: Open
        at: 2025-12-23
"""


def test_if_closed_next_moves_an_all_day_event_to_the_next_business_day() -> None:
    spec = event(load(_closed_rule("next")))
    assert spec.local_start == datetime(2025, 12, 26)
    assert spec.starts_at == datetime(2025, 12, 26, 5, 0, tzinfo=UTC)


def test_if_closed_next_skips_extra_closed_dates_and_the_weekend() -> None:
    assert event(load(_closed_rule("next", "[2025-12-26]"))).local_start == datetime(2025, 12, 29)


def test_the_written_date_is_kept_after_the_events_own_notes() -> None:
    spec = event(load(_closed_rule("previous")))
    assert spec.local_start == datetime(2025, 12, 24)
    assert spec.notes == (
        "File the annual return.\n\nMoved from Thu 2025-12-25 (Christmas Day in US) by if_closed: previous."
    )


def test_an_event_on_a_business_day_is_not_moved() -> None:
    spec = event(load(_closed_rule("previous")), "open")
    assert (spec.local_start, spec.notes) == (datetime(2025, 12, 23), None)


def test_if_closed_none_leaves_a_holiday_event_alone() -> None:
    assert event(load(_closed_rule("none"))).local_start == datetime(2025, 12, 25)


def test_an_events_own_if_closed_overrides_the_default() -> None:
    body = _closed_rule("previous").replace("at: 2025-12-25\n", "at: 2025-12-25\n        if_closed: none\n")
    assert event(load(body)).local_start == datetime(2025, 12, 25)


def test_an_events_own_workdays_overrides_the_files() -> None:
    """A Chinese filing in a US calendar: Oct 1 2026 moves back to Wednesday Sep 30 by China's holidays."""
    body = """\
    workdays: {country: US}
    events:
      - id: filing
        title: Filing
        at: 2026-10-01
        if_closed: previous
        workdays: {country: CN}
    """
    assert event(load(body)).local_start == datetime(2026, 9, 30)


def test_reminders_count_from_the_moved_start() -> None:
    """Christmas 2025 moved to Wednesday 24th; one business day before is Tuesday 23rd."""
    body = _closed_rule("previous").replace("notes: File the annual return.", "reminders: [1bd]")
    assert due(event(load(body)))["1bd"] == datetime(2025, 12, 23, 14, 0, tzinfo=UTC)


def test_a_business_day_offset_without_workdays_is_an_error_at_its_line() -> None:
    found = issues("""\
    events:
      - id: filing
        title: Filing
        at: 2025-12-01
        reminders: [7d, 3bd]
    """)
    assert [(i.line, i.path) for i in found] == [(7, "events[0].reminders")]
    assert found[0].message == (
        "'3bd' counts business days and needs a working-day calendar: add workdays: {country: US} (your country's "
        "code) at the top of the file or on this event"
    )


def test_a_default_business_day_offset_without_workdays_names_the_event() -> None:
    found = issues("""\
    defaults:
      reminders: [3bd]
    events:
      - id: filing
        title: Filing
        at: 2025-12-01
    """)
    assert [(i.line, i.path) for i in found] == [(6, "events[0]")]
    assert "the default reminder '3bd' counts business days" in found[0].message


def test_an_events_if_closed_without_workdays_is_an_error_at_its_line() -> None:
    """Nothing is silently ignored: ``if_closed`` cannot move an event without knowing which days are closed."""
    found = issues("""\
    events:
      - id: filing
        title: Filing
        at: 2025-12-25
        if_closed: previous
    """)
    assert [(i.line, i.path) for i in found] == [(7, "events[0].if_closed")]
    assert found[0].message.startswith("if_closed: previous needs a working-day calendar: add workdays:")


def test_a_default_if_closed_without_workdays_is_one_error_at_the_default() -> None:
    found = issues(_closed_rule("next").replace("    workdays: {country: US, closed: []}\n", ""))
    assert [(i.line, i.path) for i in found] == [(4, "defaults.if_closed")]


def test_the_pure_steps_move_and_count_an_event_made_elsewhere() -> None:
    """What a recurring series calls per occurrence: an occurrence on New Year's Day 2026 moves to the previous
    business day, Wednesday 2025-12-31, and its 2bd reminder is counted from there (Monday 2025-12-29)."""
    occurrence = make_event(
        "filing@20260101", local_start=datetime(2026, 1, 1, 17, 0), all_day=False, reminders=offsets("2bd", "0m")
    )
    us = WorkdayCalendar("US")
    moved = count_business_days(move_off_closed(occurrence, us, "previous"), us)
    assert moved.starts_at == datetime(2025, 12, 31, 22, 0, tzinfo=UTC)
    assert due(moved)["2bd"] == datetime(2025, 12, 29, 22, 0, tzinfo=UTC)
    assert move_off_closed(occurrence, us, "none") is occurrence


def test_an_unknown_country_is_an_error_at_its_line() -> None:
    found = issues(one_event("2025-12-01", workdays="{country: Narnia}"))
    assert [(i.line, i.path) for i in found] == [(3, "workdays.country")]
    assert "see the country list" in found[0].message


def test_an_unknown_subdivision_is_an_error_at_its_line() -> None:
    found = issues(one_event("2025-12-01", workdays="{country: US, subdivision: XY}"))
    assert [(i.line, i.path) for i in found] == [(3, "workdays.subdivision")]


@pytest.mark.parametrize(
    ("workdays", "path", "message"),
    [
        ("{country: US, closed: [2025-12-32]}", "workdays.closed[0]", "bad date '2025-12-32': write YYYY-MM-DD"),
        ("{country: US, closed: 2025-12-26}", "workdays.closed", "must be a list of dates"),
        ("{country: US, weekend: [sat, sun, funday]}", "workdays.weekend", "unknown weekday 'funday'"),
        ("{country: US, holidays: []}", "workdays.holidays", "unknown key 'holidays'"),
        ("{subdivision: NY}", "workdays", "missing required key 'country'"),
        ("US", "workdays", "must be a mapping"),
    ],
)
def test_bad_workdays_values_are_errors_naming_the_key(workdays: str, path: str, message: str) -> None:
    found = issues(one_event("2025-12-01", workdays=workdays))
    assert [i.path for i in found] == [path]
    assert message in found[0].message


def test_an_unknown_if_closed_suggests_the_closest_rule() -> None:
    found = issues(_closed_rule("prev"))
    assert [(i.path, i.message) for i in found] == [
        ("defaults.if_closed", "unknown if_closed 'prev' (did you mean 'previous'?)")
    ]


def test_a_huge_business_day_offset_is_a_quick_bounded_error() -> None:
    began = time.monotonic()
    found = issues(one_event("2025-12-01", "[999999bd]"))
    assert time.monotonic() - began < 2
    assert [(i.path, i.message) for i in found] == [
        ("events[0].reminders[0]", "offset '999999bd' is longer than 3660 days")
    ]


def test_ten_thousand_closed_dates_load_quickly() -> None:
    """A generated list of 10,000 dates (every other day from 2020) loads in well under two seconds."""
    days = ", ".join((date(2020, 1, 1) + timedelta(days=2 * i)).isoformat() for i in range(10_000))
    began = time.monotonic()
    calendar = load(one_event("2025-12-01T17:00", workdays=f"{{country: US, closed: [{days}]}}"))
    assert time.monotonic() - began < 2
    assert len(calendar.defaults.workdays.closed) == 10_000  # type: ignore[union-attr]
    assert "3bd" in due(event(calendar))


def test_a_calendar_closed_for_decades_is_a_bounded_error_at_the_events_line() -> None:
    """Every day from 2020 for 10,000 days closed: moving the event off it finds no business day within ten
    years, and says so at the event's ``at``, quickly."""
    days = ", ".join((date(2020, 1, 1) + timedelta(days=i)).isoformat() for i in range(10_000))
    began = time.monotonic()
    found = issues(_closed_rule("next", f"[{days}]"))
    assert time.monotonic() - began < 5
    assert {(i.path, i.message.split(":")[0]) for i in found} == {
        ("events[0].at", "no business day within 3660 days after 2025-12-25 in US"),
        ("events[1].at", "no business day within 3660 days after 2025-12-23 in US"),
    }


def test_more_closed_dates_than_allowed_is_an_error() -> None:
    days = ", ".join(["2025-12-26"] * (MAX_CLOSED + 1))
    found = issues(one_event("2025-12-01", workdays=f"{{country: US, closed: [{days}]}}"))
    assert [i.path for i in found] == ["workdays.closed"]
    assert f"at most {MAX_CLOSED}" in found[0].message


def test_a_new_closed_date_changes_the_fingerprint_of_an_event_it_moves() -> None:
    """So a daemon re-plans the event's reminders when an office closure is added."""
    before = event(load(one_event("2025-12-01T17:00")))
    after = event(load(one_event("2025-12-01T17:00", workdays="{country: US, subdivision: NY, closed: [2025-11-26]}")))
    assert due(before)["3bd"] != due(after)["3bd"]
    assert event_fingerprint(before) != event_fingerprint(after)


def test_an_api_event_counts_business_days_by_the_files_workdays() -> None:
    """A database-owned event made through the CLI or API gets the file's workdays and if_closed."""
    calendar = load(_closed_rule("previous") + "    channels: {c: {type: console}}\n")
    draft = EventDraft(id="api-filing", title="API filing", start="2025-12-25T17:00", reminders=["3bd"])
    spec, _ = resolve_draft(draft, calendar)
    assert spec.local_start == datetime(2025, 12, 24, 17, 0)
    assert due(spec)["3bd"] == datetime(2025, 12, 19, 22, 0, tzinfo=UTC)


def test_a_repeating_event_keeps_its_written_date_and_uncounted_offsets_with_its_working_day_calendar() -> None:
    """The series is settled per occurrence later (alertd.planning.closedays): loading moves and counts nothing."""
    calendar = load("""\
    workdays: {country: US, subdivision: NY}
    events:
      - id: close
        title: Close
        at: 2025-05-31T17:00
        if_closed: previous
        reminders: [3bd]
        repeat: FREQ=MONTHLY;BYMONTHDAY=-1
    """)
    (series,) = calendar.series
    assert series.event.local_start == datetime(2025, 5, 31, 17, 0)
    assert [(o.text, o.days) for o in series.event.reminders] == [("3bd", 0)]
    assert (series.workdays, series.if_closed) == (WorkdayCalendar("US", "NY"), "previous")


def test_a_repeating_event_with_a_business_day_offset_and_no_workdays_is_an_error_at_its_line() -> None:
    found = issues("""\
    events:
      - id: close
        title: Close
        at: 2025-05-31T17:00
        reminders: [3bd]
        repeat: FREQ=MONTHLY;BYMONTHDAY=-1
    """)
    assert [(i.line, i.path) for i in found] == [(7, "events[0].reminders")]
