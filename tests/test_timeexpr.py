from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import tzdata as tzdata_package
from support.zonefiles import package_zones, reading
from whenever import Instant

from alertd.timeexpr import (
    ZoneError,
    apply_offset,
    day_end,
    day_start,
    is_ambiguous,
    is_nonexistent,
    localize,
    parse_clock_time,
    parse_offset,
    parse_stored_offset,
    shift,
    tzdata,
    use_tzdata,
    wall_clock,
    zone,
)

NY = zone("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_nominal_days_keep_the_wall_clock_across_dst() -> None:
    """The SPEC example: 14d before 2025-11-10T00:00 New York is 00:00 EDT on Oct 27, i.e. 04:00Z."""
    assert apply_offset(datetime(2025, 11, 10), NY, parse_offset("14d")) == utc(2025, 10, 27, 4)


def test_exact_hours_count_elapsed_time_across_dst() -> None:
    """The SPEC example: 336h before 2025-11-10T00:00 New York is 05:00Z, an hour off the 14d reminder."""
    assert apply_offset(datetime(2025, 11, 10), NY, parse_offset("336h")) == utc(2025, 10, 27, 5)


def test_after_offset_moves_forward() -> None:
    """``+1d`` is a follow-up one nominal day after the start."""
    assert apply_offset(datetime(2025, 11, 1, 12), NY, parse_offset("+1d")) == utc(2025, 11, 2, 17)


def test_plus_prefix_means_after() -> None:
    """A leading ``+`` marks the offset as after the start."""
    offset = parse_offset("+1d")
    assert (offset.after, offset.days, offset.seconds) == (True, 1, 0)


def test_minus_prefix_also_means_after() -> None:
    """A leading ``-`` also means after the start, as SPEC §3 says."""
    assert parse_offset("-2h").after


def test_compound_offset_adds_its_parts() -> None:
    """``1w2d3h4m5s`` splits into nominal days and exact seconds."""
    offset = parse_offset("1w2d3h4m5s")
    assert (offset.days, offset.seconds, offset.after) == (9, 3 * 3600 + 4 * 60 + 5, False)


def test_compound_offset_applies_nominal_then_exact() -> None:
    """``1d12h`` moves the wall-clock date first, then subtracts exact hours."""
    assert apply_offset(datetime(2025, 11, 3, 12), NY, parse_offset("1d12h")) == utc(2025, 11, 2, 5)


def test_zero_offset_is_zero() -> None:
    """``0m`` means at the start."""
    assert parse_offset("0m").is_zero


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "1h1d", "1.5h", "7 d", "++1d"])
def test_bad_offsets_are_rejected_with_the_fix(text: str) -> None:
    """Malformed offsets raise ValueError that shows how to write one."""
    with pytest.raises(ValueError, match=r"e\.g\. 7d"):
        parse_offset(text)


def test_offsets_beyond_ten_years_are_rejected() -> None:
    """Absurdly long offsets are refused instead of overflowing datetime arithmetic."""
    with pytest.raises(ValueError, match="longer than"):
        parse_offset("9999w")


@pytest.mark.parametrize(
    ("text", "business_days", "seconds", "after"),
    [("3bd", 3, 0, False), ("+2bd", 2, 0, True), ("3bd12h", 3, 12 * 3600, False)],
)
def test_business_day_offsets_parse_unresolved(text: str, business_days: int, seconds: int, after: bool) -> None:
    """``Nbd`` is kept as a count of business days; its nominal days come from the event's working-day calendar."""
    offset = parse_offset(text)
    assert (offset.business_days, offset.days, offset.seconds, offset.after) == (business_days, 0, seconds, after)
    assert offset.unresolved
    assert not offset.is_zero


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1w3bd", "combine business days only with h, m, s"),
        ("2bd1d", "combine business days only with h, m, s"),
        ("0bd", "count at least one business day"),
        ("3db", r"e\.g\. 7d"),
        ("999999bd", "longer than 3660 days"),
        ("9" * 5000 + "bd", "longer than 3660 days"),
    ],
)
def test_bad_business_day_offsets_are_rejected_with_the_fix(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_offset(text)


def test_a_resolved_business_day_offset_is_stored_with_its_days_and_read_back() -> None:
    """Storage keeps ``3bd=5d`` so an event read back plans and exports exactly as it was resolved."""
    resolved = parse_offset("3bd2h").resolved(5)
    assert resolved.stored == "3bd2h=5d"
    assert parse_stored_offset(resolved.stored) == resolved
    assert parse_stored_offset("7d") == parse_offset("7d")
    assert parse_offset("7d").stored == "7d"


def test_a_business_day_offset_resolving_beyond_ten_years_is_refused() -> None:
    with pytest.raises(ValueError, match="reaches further than 3660 days"):
        parse_offset("3bd").resolved(4000)


@pytest.mark.parametrize(("text", "expected"), [("09:00", time(9)), ("9:30", time(9, 30)), ("23:59", time(23, 59))])
def test_clock_times_parse(text: str, expected: time) -> None:
    """``HH:MM`` (leading zero optional) parses to a time of day."""
    assert parse_clock_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9am", "09:60", "0900", ""])
def test_bad_clock_times_are_rejected(text: str) -> None:
    """Anything but a valid ``HH:MM`` raises ValueError with an example."""
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock_time(text)


@pytest.mark.parametrize("name", ["Mars/Olympus", "EST5EDT ", "../etc/passwd", "", "/etc/localtime"])
def test_unknown_zones_raise_zone_error(name: str) -> None:
    """Names outside the IANA database, including path tricks, raise ZoneError."""
    with pytest.raises(ZoneError, match="unknown time zone"):
        zone(name)


def test_spring_forward_gap_is_nonexistent() -> None:
    """02:30 on 2025-03-09 never happens in New York."""
    assert is_nonexistent(datetime(2025, 3, 9, 2, 30), NY)


def test_gap_is_not_ambiguous() -> None:
    """A time in a gap is reported as nonexistent, not as ambiguous."""
    assert not is_ambiguous(datetime(2025, 3, 9, 2, 30), NY)


def test_fall_back_fold_is_ambiguous() -> None:
    """01:30 on 2025-11-02 happens twice in New York."""
    assert is_ambiguous(datetime(2025, 11, 2, 1, 30), NY)


def test_ordinary_time_is_neither_gap_nor_fold() -> None:
    """A normal wall-clock time is unambiguous and exists."""
    local = datetime(2025, 11, 2, 3, 30)
    assert not is_nonexistent(local, NY)
    assert not is_ambiguous(local, NY)


def test_localize_reads_a_gap_with_the_offset_before_it() -> None:
    """RFC 5545: 02:30 in the spring gap is read as EST (-05:00), i.e. 07:30Z."""
    assert localize(datetime(2025, 3, 9, 2, 30), NY) == utc(2025, 3, 9, 7, 30)


def test_localize_resolves_a_fold_to_its_first_occurrence() -> None:
    """RFC 5545: 01:30 in the autumn fold is the EDT one (-04:00), i.e. 05:30Z."""
    assert localize(datetime(2025, 11, 2, 1, 30), NY) == utc(2025, 11, 2, 5, 30)


def test_day_start_is_local_midnight() -> None:
    """The day of 2025-11-10 begins at 05:00Z in New York (EST)."""
    assert day_start(date(2025, 11, 10), NY) == utc(2025, 11, 10, 5)


def test_day_start_is_the_jump_when_midnight_is_skipped() -> None:
    """Santiago jumps from 00:00 to 01:00 on 2025-09-07: the day begins at the jump, 01:00-03:00 (04:00Z)."""
    assert day_start(date(2025, 9, 7), zone("America/Santiago")) == utc(2025, 9, 7, 4)


def test_day_start_is_the_jump_when_it_crosses_midnight() -> None:
    """Toronto jumped from 23:30 to 00:30 on 1919-03-31: that day began at 00:30 (04:30Z), not at 01:00."""
    assert day_start(date(1919, 3, 31), zone("America/Toronto")) == utc(1919, 3, 31, 4, 30)


def test_day_start_is_the_first_run_of_a_repeated_midnight() -> None:
    """Havana runs 00:00-01:00 twice on 2025-11-02: the day begins at the first midnight, 00:00-04:00 (04:00Z)."""
    assert day_start(date(2025, 11, 2), zone("America/Havana")) == utc(2025, 11, 2, 4)


def test_day_start_refuses_a_day_the_zone_skipped() -> None:
    """Samoa went from 29 to 31 December 2011: the 30th has no first instant."""
    with pytest.raises(ValueError, match="2011-12-30 does not exist in Pacific/Apia"):
        day_start(date(2011, 12, 30), zone("Pacific/Apia"))


def test_day_end_is_the_next_days_start() -> None:
    """2 Nov 2025 in New York ends at 05:00Z on the 3rd, 25 hours after it began."""
    assert day_end(date(2025, 11, 2), NY) - day_start(date(2025, 11, 2), NY) == timedelta(hours=25)


SECOND_RUN = utc(2025, 11, 2, 6, 30)  # 01:30 EST, the second 01:30 of the fall-back night


@pytest.mark.parametrize(
    ("offset", "due"), [("0m", SECOND_RUN), ("2h", utc(2025, 11, 2, 4, 30)), ("+30m", utc(2025, 11, 2, 7))]
)
def test_shift_counts_exact_offsets_from_the_start_instant(offset: str, due: datetime) -> None:
    """Exact offsets move the instant written: from the second 01:30, not from the first an hour earlier."""
    assert shift(SECOND_RUN, NY, parse_offset(offset)) == due


def test_shift_moves_nominal_days_on_the_start_wall_clock() -> None:
    """1d before the second 01:30 is 01:30 on the day before, in daylight time (05:30Z)."""
    assert shift(SECOND_RUN, NY, parse_offset("1d")) == utc(2025, 11, 1, 5, 30)


def test_wall_clock_marks_the_second_run_with_fold() -> None:
    """The second 01:30 reads 01:30 with fold=1, the first with fold=0."""
    second, first = wall_clock(SECOND_RUN, NY), wall_clock(SECOND_RUN - timedelta(hours=1), NY)
    assert (second, second.fold, first.fold) == (datetime(2025, 11, 2, 1, 30), 1, 0)


# --- the zone database ------------------------------------------------------------------------------------

# Zones whose 2025–2027 rules changed between tzdata releases (British Columbia keeps -07:00 from November 2026
# on in 2026a and later), so a lookup in the wrong database shows.
CHANGED = ("America/Vancouver", "America/New_York", "Asia/Tehran", "America/Asuncion", "Europe/Kyiv")
SAMPLES = [datetime(year, month, 15, 12, tzinfo=UTC) for year in (2025, 2026, 2027) for month in range(1, 13)]
SYSTEM_ZONES = Path("/usr/share/zoneinfo")


def offsets_in_whenever(name: str) -> list[timedelta | None]:
    """UTC offsets at SAMPLES as whenever reads zone ``name`` from its folder (its own TZif parser, not zoneinfo)."""
    return [Instant(at).to_tz(name).offset.to_stdlib() for at in SAMPLES]


def offsets_in_alertd(name: str) -> list[timedelta | None]:
    return [at.astimezone(zone(name)).utcoffset() for at in SAMPLES]


@pytest.fixture
def restore_package() -> Iterator[None]:
    """Whatever a test chooses, the rest of the session plans with the package again."""
    yield
    use_tzdata("package")


def test_zones_come_from_the_pinned_tzdata_package_by_default() -> None:
    """Without a choice every zone is the tzdata package's, named by its IANA version: its offsets are those
    whenever reads from the package's own files."""
    assert (tzdata().source, tzdata().version) == ("package", tzdata_package.IANA_VERSION)
    with package_zones():
        for name in CHANGED:
            assert offsets_in_alertd(name) == offsets_in_whenever(name), name


@pytest.mark.skipif(not (SYSTEM_ZONES / "tzdata.zi").is_file(), reason="this machine has no system zone files")
def test_system_choice_reads_the_systems_zone_files_and_names_their_version(restore_package: None) -> None:
    """ALERTD_TZDATA=system plans with the system's files and reports the version in their tzdata.zi."""
    first_line = (SYSTEM_ZONES / "tzdata.zi").read_text(encoding="utf-8").splitlines()[0]
    database = use_tzdata("system")
    assert (database.source, f"# version {database.version}") == ("system", first_line)
    with reading(SYSTEM_ZONES):
        for name in CHANGED:
            # A zone the folder lacked would be read from the package instead.
            assert (SYSTEM_ZONES / name).is_file(), name
            assert offsets_in_alertd(name) == offsets_in_whenever(name), name


def test_the_independent_reader_reads_the_folder_it_is_given(tmp_path: Path) -> None:
    """whenever reads the named folder's file, not a copy of its own or the package's: Tokyo's rules filed under
    America/Vancouver read as +09:00, so the comparisons above really are against the files alertd reads."""
    tokyo = (importlib.resources.files("tzdata") / "zoneinfo" / "Asia" / "Tokyo").read_bytes()
    (tmp_path / "America").mkdir()
    (tmp_path / "America" / "Vancouver").write_bytes(tokyo)
    with reading(tmp_path):
        assert set(offsets_in_whenever("America/Vancouver")) == {timedelta(hours=9)}


def test_system_choice_without_zone_files_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_package: None
) -> None:
    """Choosing the system database where there is none is a one-line error naming the other choice."""
    monkeypatch.setenv("PYTHONTZPATH", str(tmp_path))
    with pytest.raises(ZoneError, match=r"no zone files were found in .*set ALERTD_TZDATA=package"):
        use_tzdata("system")


def test_a_zone_the_system_lacks_is_unknown_rather_than_taken_from_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_package: None
) -> None:
    """With the system database, a zone missing from its folder is an unknown zone, not the package's copy."""
    (tmp_path / "UTC").write_bytes((importlib.resources.files("tzdata") / "zoneinfo" / "UTC").read_bytes())
    monkeypatch.setenv("PYTHONTZPATH", str(tmp_path))
    assert use_tzdata("system").folder == str(tmp_path)
    assert zone("UTC").key == "UTC"
    with pytest.raises(ZoneError, match="unknown time zone 'Asia/Seoul'"):
        zone("Asia/Seoul")
