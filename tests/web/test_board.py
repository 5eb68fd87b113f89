"""The board's cards on the seed calendar, at fixed instants either side of the US clock change (2 Nov 2025)."""

from __future__ import annotations

from datetime import UTC, datetime

from alertd.calendar import load_calendar
from alertd.domain import EventSpec
from alertd.web.board import Card, NextSend, build_board

from .conftest import SEED

EVENTS: tuple[EventSpec, ...] = load_calendar(SEED)[0].events
BEFORE = datetime(2025, 10, 31, 12, 0, tzinfo=UTC)  # Friday 08:00 EDT
AFTER = datetime(2025, 11, 3, 15, 0, tzinfo=UTC)  # Monday 10:00 EST


def _cards(now: datetime, zone: str | None, tag: str | None = None, status: str | None = None) -> dict[str, Card]:
    board = build_board(EVENTS, now=now, zone=zone, locale="en", next_sends={}, tag=tag, status=status)
    return {c.event.id: c for c in board.upcoming}


def test_countdowns_count_the_event_zones_days_before_the_clock_change() -> None:
    cards = _cards(BEFORE, None)
    assert [(k, c.countdown) for k, c in cards.items()] == [
        ("us-100pct-tariff", "tomorrow"),
        ("truce-expiry", "in 10 days"),
    ]


def test_countdowns_after_the_clock_change_count_calendar_days_in_the_viewers_zone() -> None:
    assert _cards(AFTER, "America/New_York")["truce-expiry"].countdown == "in 7 days"
    # 10 Nov begins at 21:00 on 9 Nov in Los Angeles, and that is the date a viewer there counts to.
    assert _cards(AFTER, "America/Los_Angeles")["truce-expiry"].countdown == "in 6 days"


def test_the_viewers_zone_shows_the_event_in_its_own_offset_on_each_side_of_the_change() -> None:
    cards = _cards(BEFORE, "Europe/Berlin")
    # Midnight in New York is 04:00 UTC under EDT (1 Nov) and 05:00 UTC under EST (10 Nov).
    assert "05:00 CET" in cards["us-100pct-tariff"].when_viewer
    assert "06:00 CET" in cards["truce-expiry"].when_viewer
    assert "America/New_York" in cards["truce-expiry"].when_own


def test_a_viewer_in_the_events_zone_sees_one_time_only() -> None:
    cards = _cards(BEFORE, "America/New_York")
    assert cards["truce-expiry"].when_viewer == ""


def test_past_events_are_folded_away_most_recent_first() -> None:
    board = build_board(EVENTS, now=BEFORE, zone=None, locale="en", next_sends={})
    assert [c.event.id for c in board.folded] == ["trump-xi-summit", "kl-framework"]


def test_filters_by_tag_and_by_status() -> None:
    assert list(_cards(BEFORE, None, tag="tariff")) == ["us-100pct-tariff"]
    assert list(_cards(BEFORE, None, status="confirmed")) == ["truce-expiry"]


def test_the_next_notice_is_shown_in_the_viewers_zone_across_the_change() -> None:
    due = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)  # 09:00 EST, after the change
    sends = {"truce-expiry": NextSend(due, "console", "reminder")}
    board = build_board(EVENTS, now=BEFORE, zone=None, locale="en", next_sends=sends)
    card = next(c for c in board.upcoming if c.event.id == "truce-expiry")
    assert card.next_when == "2025-11-03 09:00 EST"


def test_the_board_speaks_the_viewers_language() -> None:
    board = build_board(EVENTS, now=BEFORE, zone=None, locale="de", next_sends={})
    assert board.upcoming[0].countdown == "morgen"
