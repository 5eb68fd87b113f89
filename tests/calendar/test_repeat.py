"""``repeat:``, ``except:`` and ``occurrences:`` in the calendar file: what is accepted, each refusal at its line."""

from __future__ import annotations

import textwrap
import time as timer
from datetime import UTC, date, datetime

import pytest

from alertd.calendar.load import parse_calendar
from alertd.domain import Calendar
from alertd.errors import CalendarError, CalendarIssue


def parse(body: str) -> Calendar:
    text = "version: 1\ntimezone: America/New_York\nevents:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    calendar, _ = parse_calendar(text, name="calendar.yaml", environ={})
    return calendar


def refused(body: str) -> list[CalendarIssue]:
    with pytest.raises(CalendarError) as info:
        parse(body)
    return [i for i in info.value.issues if i.severity == "error"]


MONTH_END = """\
- id: month-end
  title: Month-end report
  at: 2026-01-30T17:00
  repeat: FREQ=MONTHLY;BYDAY=-1FR
"""


def test_a_repeating_event_is_a_series_not_a_one_off_event() -> None:
    """The event with ``repeat:`` is kept as a series (its first occurrence as written), not among the events."""
    calendar = parse(MONTH_END)
    assert calendar.events == ()
    (series,) = calendar.series
    assert series.rule == "FREQ=MONTHLY;BYDAY=-1FR"
    assert series.event.id == "month-end"
    assert series.event.starts_at == datetime(2026, 1, 30, 22, 0, tzinfo=UTC)


def test_except_and_occurrences_are_keyed_by_the_original_date() -> None:
    """``except:`` dates and ``occurrences:`` overrides are read by the date the rule gives the occurrence."""
    calendar = parse(
        MONTH_END
        + """\
  except: [2026-04-24]
  occurrences:
    2026-03-27: {at: 2026-03-30T17:00, status: confirmed, title: Q1 close}
    2026-05-29: {status: cancelled}
"""
    )
    (series,) = calendar.series
    assert series.exdates == {date(2026, 4, 24)}
    moved = series.overrides[date(2026, 3, 27)]
    assert moved.local_start == datetime(2026, 3, 30, 17, 0)
    assert moved.starts_at == datetime(2026, 3, 30, 21, 0, tzinfo=UTC)
    assert (moved.status, moved.title) == ("confirmed", "Q1 close")
    assert series.overrides[date(2026, 5, 29)].status == "cancelled"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=SECONDLY;COUNT=1000000000", "more often than daily"),
        ("FREQ=HOURLY", "more often than daily"),
        ("FREQ=DAILY;BYHOUR=9,17", "time of day comes from 'at'"),
        ("FREQ=DAILY;COUNT=999999999", "bad COUNT"),
        ("FREQ=DAILY;INTERVAL=0", "bad INTERVAL"),
        ("FREQ=MONTHLY;BYDAY=XX", "bad rule"),
        ("FREQ=FORTNIGHTLY", "unknown FREQ"),
        ("BYDAY=MO", "FREQ is missing"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "COUNT and UNTIL"),
        ("FREQ=DAILY;UNTIL=20251231", "before 'at'"),
        ("FREQ=DAILY;DTSTART=20260101", "unknown rule part"),
        ("FREQ=DAILY;COUNT=3 # for now", "bad character ' '"),
        ("FREQ=DAILY;;COUNT=3", "bad rule part"),
        ("FREQ=DAILY;UNTIL=20260230", "not a real date"),
        ("FREQ=DAILY;UNTIL=tomorrow", "bad UNTIL"),
        (5, "must be an RRULE"),
        (["FREQ=DAILY"], "must be an RRULE"),
        ("x" * 100_000, "bad rule part"),
    ],
)
def test_a_bad_or_absurd_rule_is_one_line_at_the_repeat_key(rule: object, words: str) -> None:
    """Each refused rule is one error at ``repeat:``'s line, saying why."""
    found = refused(f"- id: daily\n  title: Daily\n  at: 2026-01-30T09:00\n  repeat: {rule!r}\n")
    (issue,) = found
    assert (issue.line, issue.path) == (7, "events[0].repeat")
    assert words in issue.message
    assert "\n" not in issue.message
    assert len(issue.message) < 300


def test_a_rule_that_never_matches_is_refused_within_bounded_time() -> None:
    """February 30th never comes: dateutil would scan to the year 9999; the check gives up in seconds and says so."""
    started = timer.monotonic()
    (issue,) = refused("- id: never\n  title: Never\n  at: 2026-01-30\n  repeat: FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\n")
    assert timer.monotonic() - started < 4
    assert issue.path == "events[0].repeat"
    assert "no occurrence" in issue.message


def test_at_must_be_the_rules_first_occurrence() -> None:
    """RFC 5545 counts DTSTART as the first instance; a start the rule does not give is named with the fix."""
    (issue,) = refused("- id: x\n  title: X\n  at: 2026-01-29T17:00\n  repeat: FREQ=MONTHLY;BYDAY=-1FR\n")
    assert issue.path == "events[0].at"
    assert "2026-01-30" in issue.message


def test_an_except_date_the_rule_never_gives_is_named_at_its_line() -> None:
    """A date that is not an occurrence (a typo, or a moved date instead of the original) is refused."""
    (issue,) = refused(MONTH_END + "  except: [2026-04-23]\n")
    assert (issue.line, issue.path) == (8, "events[0].except")
    assert "2026-04-23 is not a date the rule gives" in issue.message


def test_an_override_with_an_unknown_key_or_status_is_refused_at_its_line() -> None:
    found = refused(
        MONTH_END
        + """\
  occurrences:
    2026-02-27: {status: maybe}
    2026-03-27: {start: 2026-03-30T17:00}
"""
    )
    assert [(i.line, i.path) for i in found] == [
        (9, "events[0].occurrences.2026-02-27.status"),
        (10, "events[0].occurrences.2026-03-27.start"),
    ]
    assert "unknown key 'start'" in found[1].message


def test_an_override_moved_into_a_dst_gap_is_refused() -> None:
    """A moved occurrence follows the rules of ``at``: a wall time that does not exist is an error with the fix."""
    (issue,) = refused(
        "- id: d\n  title: D\n  at: 2026-03-01T09:00\n  repeat: FREQ=WEEKLY\n"
        "  occurrences:\n    2026-03-08: {at: 2026-03-08T02:30}\n"
    )
    assert issue.path == "events[0].occurrences.2026-03-08.at"
    assert "does not exist" in issue.message


def test_except_without_repeat_is_refused() -> None:
    (issue,) = refused("- id: x\n  title: X\n  at: 2026-01-30\n  except: [2026-01-30]\n")
    assert issue.path == "events[0].except"
    assert "only applies to a repeating event" in issue.message


def test_a_date_in_both_except_and_occurrences_is_refused() -> None:
    (issue,) = refused(MONTH_END + "  except: [2026-02-27]\n  occurrences:\n    2026-02-27: {status: cancelled}\n")
    assert issue.path == "events[0].occurrences.2026-02-27"


def test_rules_that_together_make_too_many_occurrences_are_refused_at_the_one_crossing_the_bound() -> None:
    """Every occurrence is an event row: 499 daily rules (401 occurrences each in 400 days, 200,099 in all) are
    one too many."""
    body = "".join(f"- {{id: d{i}, title: D, at: '2026-01-01T09:00', repeat: FREQ=DAILY}}\n" for i in range(499))
    started = timer.monotonic()
    found = refused(body)
    assert [(i.path, i.line) for i in found] == [("events[498].repeat", 502)]
    assert "more than 200000 occurrences in 400 days" in found[0].message
    assert timer.monotonic() - started < 20


def test_an_occurrence_named_by_something_other_than_a_date_is_refused() -> None:
    (issue,) = refused(MONTH_END + "  occurrences:\n    march: {status: cancelled}\n")
    assert (issue.line, issue.path) == (9, "events[0].occurrences.march")
    assert "bad date 'march'" in issue.message
