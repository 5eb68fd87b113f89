"""Differential test: every planned instant, across every zone that changes its clocks in 2025–2027, against an
independent computation.

The expected instants come from whenever reading the zone files of the pinned ``tzdata`` package itself (its own
TZif parser, independent of zoneinfo) and from plain UTC arithmetic on the offsets written; alertd plans them from a
calendar file through its loader and planner. Events sit an hour either side of each change, inside each fold and
gap (written with each side's offset, and without one), and all day on the day of each change.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import pytest
from support.zonefiles import package_zones
from whenever import Instant, ZonedDateTime

from alertd.calendar import load_calendar
from alertd.errors import CalendarError
from alertd.planning import plan_reminders
from alertd.timeexpr import tzdata

_FIRST, _LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
_TIMED = ("7d", "1d", "2h", "0m")
_ALL_DAY = ("7d", "1d", "0m")
_ALL_DAY_AT = time(9, 0)


def _file(name: str) -> bytes:
    return importlib.resources.files("tzdata").joinpath("zoneinfo", *name.split("/")).read_bytes()


def _zone_names() -> list[str]:
    """Every zone of the package once: a link (US/Eastern) is a copy of its target's file and adds nothing."""
    names = importlib.resources.files("tzdata").joinpath("zones").read_text().split()
    return list({_file(name): name for name in reversed(names)}.values())


@pytest.fixture(autouse=True, scope="module")
def _whenever_reads_the_package() -> Iterator[None]:
    """The expected instants come from the same files alertd plans with by default."""
    with package_zones():
        yield


def _offset(name: str, instant: datetime) -> timedelta:
    return Instant(instant).to_tz(name).offset.to_stdlib()


def _transitions(name: str) -> Iterator[tuple[datetime, timedelta, timedelta]]:
    """Each change of UTC offset in 2025–2027: the instant (to the second), the offset before and after."""
    at = _FIRST
    while at < _LAST:
        # Weekly steps, then bisection: no zone changes its offset twice within a week.
        nxt = at + timedelta(days=7)
        if _offset(name, at) != _offset(name, nxt):
            lo, hi = at, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
                lo, hi = (mid, hi) if _offset(name, mid) == _offset(name, lo) else (lo, mid)
            yield hi, _offset(name, lo), _offset(name, hi)
        at = nxt


def _utc(wall: datetime, name: str) -> datetime:
    """RFC 5545 §3.3.5 by whenever: its "compatible" reading takes a gap time with the offset before the gap and a
    fold time's first occurrence."""
    fields = (wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second)
    zoned = ZonedDateTime(*fields, nanosecond=wall.microsecond * 1000, tz=name, disambiguation="compatible")
    return zoned.to_instant().to_stdlib()


def _wall(instant: datetime, name: str) -> datetime:
    return Instant(instant).to_tz(name).to_plain().to_stdlib()


def _text(wall: datetime, offset: timedelta | None = None) -> str:
    text = wall.strftime("%Y-%m-%dT%H:%M")
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    return f"{text}{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@dataclass(frozen=True, slots=True)
class Case:
    """One event: its zone, its ``at`` as written, the instant it must start at, and what kind of time it is."""

    id: str
    zone: str
    at: str
    start: datetime
    kind: str  # ordinary | fold | gap | offset | day

    def expected(self) -> dict[str | None, datetime]:
        """The start and each reminder's instant, computed without alertd."""
        if self.kind == "day":
            anchor = datetime.combine(date.fromisoformat(self.at), _ALL_DAY_AT)
            days = {"7d": 7, "1d": 1, "0m": 0}
            return {None: self.start} | {o: _utc(anchor - timedelta(days=days[o]), self.zone) for o in _ALL_DAY}
        wall = _wall(self.start, self.zone)
        return {
            None: self.start,
            "0m": self.start,
            "2h": self.start - timedelta(hours=2),
            "1d": _utc(wall - timedelta(days=1), self.zone),
            "7d": _utc(wall - timedelta(days=7), self.zone),
        }


@cache
def _cases() -> tuple[Case, ...]:
    cases: list[Case] = []

    def add(name: str, at: str, start: datetime, kind: str) -> None:
        cases.append(Case(f"e{len(cases)}", name, at, start, kind))

    for name in _zone_names():
        for change, before, after in _transitions(name):
            # The wall clock skips (a gap) or repeats (a fold) the times from `low` to `high`.
            low = (change + min(before, after)).replace(tzinfo=None)
            high = (change + max(before, after)).replace(tzinfo=None)
            for wall in (low - timedelta(hours=1), high + timedelta(hours=1)):
                wall = wall.replace(second=0)
                add(name, _text(wall), _utc(wall, name), "ordinary")
            inside = (low + (high - low) / 2).replace(second=0, microsecond=0)
            # Written with either side's offset, the instant is plain arithmetic on what was written.
            for offset in (before, after):
                add(name, _text(inside, offset), inside.replace(tzinfo=UTC) - offset, "offset")
            # Without an offset, a fold time is its first occurrence; a gap time is refused.
            kind = "fold" if after < before else "gap"
            add(name, _text(inside), inside.replace(tzinfo=UTC) - before, kind)
            # The day of the change starts at its first instant: midnight's first run, or the jump over midnight.
            day = _wall(change, name).date()
            midnight = datetime.combine(day, time())
            # Midnight exists unless it falls in the gap, where reading it and back moves it.
            start = _utc(midnight, name) if _wall(_utc(midnight, name), name) == midnight else change
            add(name, day.isoformat(), start, "day")
    return tuple(cases)


def _calendar(tmp_path: Path, cases: list[Case]) -> Path:
    lines = [
        "version: 1",
        f"defaults: {{reminders: [{', '.join(_TIMED)}], all_day_at: '{_ALL_DAY_AT:%H:%M}', countdown: false}}",
        "events:",
    ]
    for case in cases:
        extra = f", reminders: [{', '.join(_ALL_DAY)}]" if case.kind == "day" else ""
        lines.append(f"  - {{id: {case.id}, title: {case.id}, at: '{case.at}', timezone: {case.zone}{extra}}}")
    path = tmp_path / "calendar.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_planned_instant_matches_an_independent_computation(tmp_path: Path) -> None:
    """Across every zone changing its clocks in 2025–2027, each event's start and reminders are the instants
    whenever and UTC arithmetic give, and only fold times written without an offset warn."""
    assert tzdata().source == "package"
    cases = [c for c in _cases() if c.kind != "gap"]
    assert len({c.zone for c in cases}) > 100, "the test must cover what it claims to"
    calendar, warnings = load_calendar(_calendar(tmp_path, cases), environ={})
    events = {e.id: e for e in calendar.events}
    wrong = []
    for case in cases:
        event = events[case.id]
        got = {None: event.starts_at} | {p.offset: p.due_at for p in plan_reminders(event, ["c"])}
        if got != case.expected():
            wrong.append(f"{case.zone} {case.at}: {got} != {case.expected()}")
    assert not wrong, f"{len(wrong)} of {len(cases)} events planned wrongly, e.g.\n" + "\n".join(wrong[:5])
    folds = {f"events[{i}].at" for i, c in enumerate(cases) if c.kind == "fold"}
    assert {w.path for w in warnings} == folds
    assert all("happens twice" in w.message for w in warnings)


def test_gap_times_without_an_offset_are_refused(tmp_path: Path) -> None:
    """A wall-clock time inside any 2025–2027 gap, written without an offset, is one error at its own key."""
    gaps = [c for c in _cases() if c.kind == "gap"]
    assert gaps
    with pytest.raises(CalendarError) as info:
        load_calendar(_calendar(tmp_path, gaps), environ={})
    assert {i.path for i in info.value.issues} == {f"events[{i}].at" for i in range(len(gaps))}
    assert all("does not exist" in i.message for i in info.value.issues)
