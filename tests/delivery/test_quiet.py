"""Quiet hours: whether an instant is inside a channel's window, and the (DST-correct) instant the window ends."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from alertd.calendar.load import parse_calendar
from alertd.delivery.quiet import held_detail, quiet_until
from alertd.domain import QuietHours
from alertd.errors import CalendarError

NIGHT = QuietHours(start=time(22, 0), end=time(7, 0))


def test_outside_the_window_nothing_is_held() -> None:
    assert quiet_until(NIGHT, "Asia/Shanghai", datetime(2025, 11, 1, 6, 0, tzinfo=UTC)) is None  # 14:00 local


def test_late_evening_is_held_until_next_morning() -> None:
    # 23:30 in Shanghai (UTC+8) on Nov 1 → held until 07:00 on Nov 2 = 23:00Z Nov 1.
    now = datetime(2025, 11, 1, 15, 30, tzinfo=UTC)
    assert quiet_until(NIGHT, "Asia/Shanghai", now) == datetime(2025, 11, 1, 23, 0, tzinfo=UTC)


def test_early_morning_is_held_until_the_same_morning() -> None:
    now = datetime(2025, 11, 1, 20, 0, tzinfo=UTC)  # 04:00 Nov 2 in Shanghai
    assert quiet_until(NIGHT, "Asia/Shanghai", now) == datetime(2025, 11, 1, 23, 0, tzinfo=UTC)


def test_window_end_is_exclusive() -> None:
    assert quiet_until(NIGHT, "Asia/Shanghai", datetime(2025, 11, 1, 23, 0, tzinfo=UTC)) is None


def test_window_within_one_day() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    assert quiet_until(lunch, "UTC", datetime(2025, 11, 1, 12, 30, tzinfo=UTC)) == datetime(
        2025, 11, 1, 13, 0, tzinfo=UTC
    )
    assert quiet_until(lunch, "UTC", datetime(2025, 11, 1, 13, 30, tzinfo=UTC)) is None


def test_window_end_follows_the_dst_change() -> None:
    # New York leaves DST on Nov 2 2025: 22:00 EDT Nov 1 is 02:00Z; 07:00 EST Nov 2 is 12:00Z (not 11:00Z).
    now = datetime(2025, 11, 2, 2, 30, tzinfo=UTC)
    assert quiet_until(NIGHT, "America/New_York", now) == datetime(2025, 11, 2, 12, 0, tzinfo=UTC)


def test_window_ending_in_a_dst_gap_ends_at_the_shifted_instant() -> None:
    # 02:30 does not exist in New York on Mar 8 2026; RFC 5545 reads it with the pre-gap offset: 07:30Z.
    gap = QuietHours(start=time(1, 0), end=time(2, 30))
    now = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert quiet_until(gap, "America/New_York", now) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_held_detail_names_the_local_end_and_zone() -> None:
    until = datetime(2025, 11, 1, 23, 0, tzinfo=UTC)
    assert held_detail(until, "Asia/Shanghai") == "held by quiet hours until 07:00 Asia/Shanghai"


def _load(quiet: str) -> None:
    text = f"version: 1\nchannels:\n  desk:\n    type: console\n    quiet_hours: {quiet}\n"
    parse_calendar(text, name="cal.yaml", environ={})


def test_calendar_accepts_quiet_hours() -> None:
    text = 'version: 1\nchannels:\n  desk: {type: console, quiet_hours: {from: "22:00", to: "07:00"}}\n'
    cal, _ = parse_calendar(text, name="cal.yaml", environ={})
    assert cal.channels["desk"].quiet_hours == NIGHT


@pytest.mark.parametrize(
    ("quiet", "message"),
    [
        ('{from: "22:00"}', "cal.yaml:5: channels.desk.quiet_hours: missing required key 'to'"),
        ('{from: "22:00", to: "25:00"}', "cal.yaml:5: channels.desk.quiet_hours.to: bad time of day"),
        ('{from: "07:00", to: "07:00"}', "an empty window"),
        ('{from: "22:00", to: "07:00", days: [mon]}', "channels.desk.quiet_hours.days: unknown key 'days'"),
        ('"22:00-07:00"', "must be a mapping"),
    ],
)
def test_bad_quiet_hours_are_errors_with_their_line(quiet: str, message: str) -> None:
    with pytest.raises(CalendarError) as caught:
        _load(quiet)
    assert any(message in str(i) for i in caught.value.issues), [str(i) for i in caught.value.issues]
