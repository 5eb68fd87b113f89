"""Properties of alertd.timeexpr: offsets and clock times over arbitrary text, and RFC 5545 time arithmetic
across every IANA zone, with wall-clock times drawn near real DST transitions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from hypothesis import assume, example, given
from hypothesis import strategies as st

from alertd.timeexpr import (
    Offset,
    ZoneError,
    apply_offset,
    is_ambiguous,
    is_nonexistent,
    localize,
    parse_clock_time,
    parse_offset,
    zone,
)

from .profile import PROPERTY

# The names of the database alertd uses by default (the tzdata package): the machine's zone folder may also hold
# names that are not zones at all, such as Debian's "localtime" link.
ZONES = sorted(resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())
_START, _END = datetime(1971, 1, 1), datetime(2037, 12, 31)


# --- strategies ---------------------------------------------------------------------------------------------


# Zones whose rules are known to move clocks (30-minute DST, negative DST, Ramadan breaks, a skipped day), used
# when the drawn zone has no change in the drawn year.
_MOVERS = (
    "America/New_York",
    "Europe/London",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Asia/Tehran",
    "Africa/Casablanca",
    "Pacific/Apia",
    "America/Santiago",
    "Pacific/Chatham",
)


@cache
def _transitions(name: str, year: int) -> tuple[tuple[datetime, timedelta, timedelta], ...]:
    """Each change of UTC offset of ``name`` in ``year``: the instant, the offset before and the offset after."""
    tz = ZoneInfo(name)
    found: list[tuple[datetime, timedelta, timedelta]] = []

    def offset(at: datetime) -> timedelta:
        value = at.astimezone(tz).utcoffset()
        assert value is not None
        return value

    # Weekly steps then bisection to the second: no zone changes its offset twice within a week.
    step = datetime(year, 1, 1, tzinfo=UTC)
    while step.year == year:
        lo, hi = step, step + timedelta(days=7)
        if offset(lo) != offset(hi):
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            found.append((hi, offset(lo), offset(hi)))
        step += timedelta(days=7)
    return tuple(found)


@st.composite
def wall_times(draw: st.DrawFn, kind: str = "any") -> tuple[datetime, str]:
    """A naive wall-clock time (whole minutes) and a zone name.

    ``kind`` ``gap`` or ``fold`` draws a time that is nonexistent or ambiguous; ``any`` draws half of its times
    within hours of a real offset change and half uniformly.
    """
    if kind == "any" and draw(st.booleans()):
        when = draw(st.datetimes(min_value=_START, max_value=_END, timezones=st.none()))
        return when.replace(second=0, microsecond=0), draw(st.sampled_from(ZONES))
    year = draw(st.integers(1971, 2037))
    name = draw(st.sampled_from(ZONES))

    def wanted(before: timedelta, after: timedelta) -> bool:
        # Clocks jump forward over a gap and back over a fold.
        return {"gap": after > before, "fold": after < before}.get(kind, True)

    changes = [c for c in _transitions(name, year) if wanted(c[1], c[2])]
    if not changes:
        name = draw(st.sampled_from(_MOVERS))
        changes = [c for c in _transitions(name, year) if wanted(c[1], c[2])]
    assume(changes)
    at, before, after = draw(st.sampled_from(changes))
    # The local clock reads `at + before` just before the change and `at + after` just after it.
    low, high = sorted((at + before, at + after))
    if kind == "any":
        low, high = low - timedelta(hours=3), high + timedelta(hours=3)
    minutes = int((high - low).total_seconds() // 60)
    wall = low.replace(tzinfo=None) + timedelta(minutes=draw(st.integers(0, max(minutes - 1, 0))))
    return wall, name


offsets_text = st.builds(
    lambda sign, parts: sign + "".join(f"{n}{unit}" for unit, n in parts if n is not None),
    st.sampled_from(["", "+", "-"]),
    st.tuples(*(st.tuples(st.just(u), st.none() | st.integers(0, 400)) for u in "wdhms")),
).filter(lambda t: t.strip("+-") != "")


def _offset_before_gap(instant: datetime, tz: ZoneInfo) -> timedelta:
    """The UTC offset in force just before the last transition at or before ``instant`` (within two days)."""
    lo, hi = instant - timedelta(days=2), instant
    first = lo.astimezone(tz).utcoffset()
    assert first != hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == first:
            lo = mid
        else:
            hi = mid
    offset = lo.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


# --- parsing arbitrary text ---------------------------------------------------------------------------------


@PROPERTY
@given(
    st.text()
    | st.from_regex(r"\A[+-]?(\d+[wdhms]){1,5}\Z")
    | st.builds(lambda n, unit: "7" * n + unit, st.integers(5, 5000), st.sampled_from("wdhms"))
)
@example("1" * 5000 + "d")  # regression: int() refused the digits with its own message
def test_parse_offset_returns_an_offset_or_the_documented_error(text: str) -> None:
    """Any text parses to an Offset or raises ValueError whose message names the offset and the fix."""
    try:
        offset = parse_offset(text)
    except ValueError as exc:
        message = str(exc)
        assert message.startswith(("bad offset ", "offset ")), message
        assert "\n" not in message
        return
    assert offset.days >= 0
    assert offset.seconds >= 0
    assert offset.text == text.strip()


@PROPERTY
@given(offsets_text)
def test_parse_offset_adds_up_the_units_it_was_given(text: str) -> None:
    """``1w2d3h4m5s`` is 9 nominal days and 3h4m5s exact; the sign only decides before/after."""
    units = {"w": 0, "d": 0, "h": 0, "m": 0, "s": 0}
    number = ""
    for char in text.lstrip("+-"):
        if char.isdigit():
            number += char
        else:
            units[char], number = int(number), ""
    days = units["w"] * 7 + units["d"]
    seconds = units["h"] * 3600 + units["m"] * 60 + units["s"]
    try:
        offset = parse_offset(text)
    except ValueError as exc:
        error = str(exc)
    else:
        assert (offset.days, offset.seconds, offset.after) == (days, seconds, text[0] in "+-")
        return
    assert "longer than" in error
    assert days + seconds // 86400 > 3660


@PROPERTY
@given(st.text() | st.from_regex(r"\A\d{1,3}:\d{1,3}\Z"))
def test_parse_clock_time_returns_a_time_or_the_documented_error(text: str) -> None:
    """Any text is a time of day or a one-line 'bad time of day' error."""
    try:
        parsed = parse_clock_time(text)
    except ValueError as exc:
        error = str(exc)
    else:
        hours, minutes = text.strip().split(":")
        assert (parsed.hour, parsed.minute, parsed.second) == (int(hours), int(minutes), 0)
        return
    assert error.startswith("bad time of day ")
    assert "\n" not in error


@PROPERTY
@given(st.times())
def test_parse_clock_time_round_trips_hh_mm(value: time) -> None:
    """What strftime writes as HH:MM parses back to the same minute."""
    assert parse_clock_time(value.strftime("%H:%M")) == value.replace(second=0, microsecond=0)


@PROPERTY
@given(st.text())
def test_zone_accepts_iana_names_and_rejects_everything_else_with_zone_error(name: str) -> None:
    """Arbitrary text is a ZoneInfo or a ZoneError naming the IANA form, never another exception."""
    try:
        found = zone(name)
    except ZoneError as exc:
        error = str(exc)
    else:
        assert found.key == name
        return
    assert "use an IANA name" in error


@PROPERTY
@given(st.sampled_from(ZONES))
def test_zone_knows_every_iana_name(name: str) -> None:
    """Every name of the tz database is accepted."""
    assert zone(name).key == name


# --- time arithmetic ----------------------------------------------------------------------------------------


@PROPERTY
@given(wall_times())
def test_localize_is_utc_aware(case: tuple[datetime, str]) -> None:
    """Every computed instant is aware and in UTC."""
    wall, name = case
    assert _is_utc(localize(wall, ZoneInfo(name)))


@PROPERTY
@given(wall_times())
def test_localize_round_trips_existing_wall_times(case: tuple[datetime, str]) -> None:
    """A wall-clock time that exists comes back unchanged from UTC."""
    wall, name = case
    tz = ZoneInfo(name)
    assume(not is_nonexistent(wall, tz))
    assert localize(wall, tz).astimezone(tz).replace(tzinfo=None) == wall


@PROPERTY
@given(wall_times("fold"))
def test_localize_picks_the_first_occurrence_in_a_fold(case: tuple[datetime, str]) -> None:
    """An ambiguous wall time resolves to the earlier of its two instants."""
    wall, name = case
    tz = ZoneInfo(name)
    assert is_ambiguous(wall, tz)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    assert localize(wall, tz) < second
    assert second.astimezone(tz).replace(tzinfo=None) == wall


@PROPERTY
@given(wall_times("gap"))
def test_localize_reads_a_gap_time_with_the_offset_from_before_the_gap(case: tuple[datetime, str]) -> None:
    """RFC 5545 §3.3.5: a nonexistent local time uses the UTC offset in force before the transition."""
    wall, name = case
    tz = ZoneInfo(name)
    assert is_nonexistent(wall, tz)
    instant = localize(wall, tz)
    before = _offset_before_gap(instant, tz)
    assert (instant + before).replace(tzinfo=None) == wall


@PROPERTY
@given(wall_times(), st.integers(0, 30 * 86400), st.booleans())
def test_exact_offsets_are_exact_elapsed_seconds(case: tuple[datetime, str], seconds: int, after: bool) -> None:
    """``Nh``/``Nm``/``Ns`` move the anchor's instant by exactly that many seconds, DST or not."""
    wall, name = case
    tz = ZoneInfo(name)
    result = apply_offset(wall, tz, Offset(text="x", days=0, seconds=seconds, after=after))
    assert _is_utc(result)
    assert (result - localize(wall, tz)).total_seconds() == (seconds if after else -seconds)


@PROPERTY
@given(wall_times(), st.integers(0, 400), st.booleans())
def test_nominal_offsets_keep_the_wall_clock_time(case: tuple[datetime, str], days: int, after: bool) -> None:
    """``Nd``/``Nw`` land on the same local time N days away, unless that time is in a gap there."""
    wall, name = case
    tz = ZoneInfo(name)
    target = wall + timedelta(days=days if after else -days)
    result = apply_offset(wall, tz, Offset(text="x", days=days, seconds=0, after=after))
    assert _is_utc(result)
    if is_nonexistent(target, tz):
        assert (result + _offset_before_gap(result, tz)).replace(tzinfo=None) == target
    else:
        assert result.astimezone(tz).replace(tzinfo=None) == target


@PROPERTY
@given(wall_times(), st.integers(0, 60), st.integers(0, 86400), st.booleans())
def test_mixed_offsets_are_nominal_then_exact(case: tuple[datetime, str], days: int, seconds: int, after: bool) -> None:
    """``1d12h`` is the ``1d`` instant moved by exactly 12 hours."""
    wall, name = case
    tz = ZoneInfo(name)
    nominal = apply_offset(wall, tz, Offset(text="x", days=days, seconds=0, after=after))
    mixed = apply_offset(wall, tz, Offset(text="x", days=days, seconds=seconds, after=after))
    assert (mixed - nominal).total_seconds() == (seconds if after else -seconds)
