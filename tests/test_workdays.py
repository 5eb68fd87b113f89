"""Working-day calendars: holidays as the ``holidays`` package knows them, business-day counting, closed-day rules."""

from __future__ import annotations

import time
from datetime import date, timedelta

import holidays
import pytest

from alertd import workdays as wd
from alertd.workdays import (
    MAX_SCAN_DAYS,
    WorkdayCalendar,
    WorkdayError,
    adjust,
    business_days_from,
    check_region,
    closure,
    is_business_day,
    weekend_days,
)

US_NY = WorkdayCalendar("US", "NY")
US = WorkdayCalendar("US")
CN = WorkdayCalendar("CN")


@pytest.mark.parametrize("day", [date(2025, 11, 27), date(2026, 11, 26), date(2027, 11, 25)])
def test_thanksgiving_is_closed_in_new_york_2025_to_2027(day: date) -> None:
    """The fourth Thursday of November, named as the package names it."""
    assert closure(day, US_NY) == "Thanksgiving Day"
    assert is_business_day(day - timedelta(days=1), US_NY)


def test_us_fixed_holidays_and_their_observed_days_are_closed() -> None:
    """Independence Day 2026 is a Saturday: the Friday before is the observed day off."""
    assert not is_business_day(date(2025, 7, 4), US)
    assert not is_business_day(date(2026, 7, 3), US)
    assert not is_business_day(date(2027, 12, 24), US)  # Christmas 2027 is a Saturday


@pytest.mark.parametrize(
    ("year", "closed_days"),
    [(2025, range(1, 9)), (2026, range(1, 8))],
)
def test_china_golden_week_is_closed(year: int, closed_days: range) -> None:
    """National Day week as the State Council set it: Oct 1–8 in 2025 (with Mid-Autumn), Oct 1–7 in 2026."""
    assert [d for d in closed_days if is_business_day(date(year, 10, d), CN)] == []
    assert is_business_day(date(year, 10, closed_days.stop), CN)


def test_china_golden_week_2027_is_national_day_and_its_observed_days() -> None:
    """2027's schedule was not in the package when written: Oct 1–5 (National Day and the weekend days it
    displaced); the rest of the week is added with ``closed`` once published."""
    assert [d for d in range(1, 8) if not is_business_day(date(2027, 10, d), CN)] == [1, 2, 3, 4, 5]
    announced = WorkdayCalendar("CN", closed=frozenset({date(2027, 10, 6), date(2027, 10, 7)}))
    assert [d for d in range(1, 8) if not is_business_day(date(2027, 10, d), announced)] == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("day", [date(2025, 9, 28), date(2025, 10, 11), date(2026, 9, 20), date(2026, 10, 10)])
def test_china_make_up_working_days_are_business_days(day: date) -> None:
    """调休: the Sunday or Saturday worked in exchange for Golden Week is a business day."""
    assert day.weekday() >= 5
    assert is_business_day(day, CN)


def test_an_explicit_weekend_has_no_make_up_days() -> None:
    """``weekend:`` replaces the country's weekend and its make-up days: a Sunday worked in China stays closed."""
    assert not is_business_day(date(2025, 9, 28), WorkdayCalendar("CN", weekend=frozenset({5, 6})))


def test_a_friday_saturday_weekend_opens_sunday() -> None:
    friday_saturday = WorkdayCalendar("US", weekend=weekend_days(["fri", "saturday"]))
    assert is_business_day(date(2025, 11, 9), friday_saturday)
    assert closure(date(2025, 11, 7), friday_saturday) == "weekend"


def test_extra_closed_dates_are_closed() -> None:
    office = WorkdayCalendar("US", "NY", closed=frozenset({date(2025, 12, 26)}))
    assert closure(date(2025, 12, 26), office) == "closed"
    assert is_business_day(date(2025, 12, 26), US_NY)


def test_three_business_days_before_a_monday_is_the_wednesday_before() -> None:
    assert business_days_from(date(2025, 11, 17), -3, US_NY) == date(2025, 11, 12)


def test_business_days_skip_thanksgiving() -> None:
    """Three business days before Monday 2025-12-01: Friday, (Thanksgiving skipped) Wednesday, Tuesday."""
    assert business_days_from(date(2025, 12, 1), -3, US_NY) == date(2025, 11, 25)


def test_business_days_after_count_forward() -> None:
    """Two business days after Wednesday 2025-12-24: (Christmas skipped) Friday, Monday."""
    assert business_days_from(date(2025, 12, 24), 2, US) == date(2025, 12, 29)


def test_counting_from_a_closed_day_starts_at_the_next_business_day() -> None:
    """One business day before Saturday is Friday; one after is Monday."""
    saturday = date(2025, 11, 15)
    assert business_days_from(saturday, -1, US) == date(2025, 11, 14)
    assert business_days_from(saturday, 1, US) == date(2025, 11, 17)


def test_adjust_moves_a_closed_day_to_the_previous_or_next_business_day() -> None:
    """Christmas 2025 (Thursday) → Wednesday under ``previous``, Friday under ``next``, itself under ``none``."""
    christmas = date(2025, 12, 25)
    assert adjust(christmas, US, "previous") == date(2025, 12, 24)
    assert adjust(christmas, US, "next") == date(2025, 12, 26)
    assert adjust(christmas, US, "none") == christmas


def test_adjust_skips_extra_closed_dates_and_weekends() -> None:
    office = WorkdayCalendar("US", closed=frozenset({date(2025, 12, 26)}))
    assert adjust(date(2025, 12, 25), office, "next") == date(2025, 12, 29)


def test_adjust_leaves_a_business_day_alone() -> None:
    assert adjust(date(2025, 12, 23), US, "previous") == date(2025, 12, 23)


def test_a_calendar_closed_for_decades_gives_a_bounded_error_not_a_hang() -> None:
    """10,000 consecutive closed days: both walks stop after MAX_SCAN_DAYS with a one-line error."""
    start = date(2025, 1, 1)
    closed = WorkdayCalendar("US", closed=frozenset(start + timedelta(days=i) for i in range(10_000)))
    began = time.monotonic()
    with pytest.raises(WorkdayError, match=r"no business day within 3660 days after 2025-01-01 in US"):
        adjust(start, closed, "next")
    with pytest.raises(WorkdayError, match=r"reach more than 3660 days away"):
        business_days_from(date(2025, 6, 1), 1, closed)
    assert time.monotonic() - began < 5


def test_a_count_beyond_the_scan_bound_is_an_error() -> None:
    """No more business days are counted than fit in MAX_SCAN_DAYS calendar days."""
    with pytest.raises(WorkdayError, match="use a smaller offset"):
        business_days_from(date(2025, 1, 1), -MAX_SCAN_DAYS, US)


def test_holiday_sets_are_computed_once_per_country_subdivision_and_year(monkeypatch: pytest.MonkeyPatch) -> None:
    """A year of day-by-day lookups asks the package once for that year."""
    wd._year.cache_clear()
    calls: list[tuple[str, object, object]] = []
    real = holidays.country_holidays

    def counting(country: str, subdiv: str | None = None, years: object = None, **kw: object) -> object:
        calls.append((country, subdiv, years))
        return real(country, subdiv=subdiv, years=years, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(holidays, "country_holidays", counting)
    for n in range(365):
        is_business_day(date(2026, 1, 1) + timedelta(days=n), US_NY)
    assert calls == [("US", "NY", 2026)]
    wd._year.cache_clear()


def test_region_codes_are_normalized() -> None:
    """Country codes are case-insensitive, alpha-3 works, and a subdivision may be given by name."""
    assert check_region("us", "ny") == ("US", "NY")
    assert check_region("USA") == ("US", None)
    assert check_region("US", "New York") == ("US", "NY")


def test_an_unknown_country_says_where_to_find_the_codes() -> None:
    with pytest.raises(WorkdayError) as caught:
        check_region("XX")
    assert str(caught.value).startswith("unknown country 'XX': see the country list at https://holidays")
    assert "\n" not in str(caught.value)


def test_an_unknown_subdivision_lists_the_countrys_subdivisions() -> None:
    with pytest.raises(WorkdayError, match=r"unknown subdivision 'ZZ' of US: use one of: AK, AL, .*NY"):
        check_region("US", "ZZ")


def test_a_subdivision_of_a_country_without_any_says_to_remove_it() -> None:
    with pytest.raises(WorkdayError, match="IS has no subdivisions; remove it"):
        check_region("IS", "X")


def test_a_huge_country_or_subdivision_is_quoted_short() -> None:
    """A pasted document as a code gives the usual one-line error, quoting 40 characters."""
    for country, subdivision in (("x" * 100_000, None), ("US", "x" * 100_000)):
        with pytest.raises(WorkdayError) as caught:
            check_region(country, subdivision)
        assert len(str(caught.value)) < 400
        assert "'" + "x" * 40 + "'…" in str(caught.value)


def test_weekend_names_are_checked() -> None:
    assert weekend_days(["Sat", "sunday"]) == frozenset({5, 6})
    with pytest.raises(WorkdayError, match="unknown weekday 'satx'"):
        weekend_days(["satx"])
    with pytest.raises(WorkdayError, match="leaves no business day"):
        weekend_days(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
