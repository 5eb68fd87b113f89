"""The board's cards on the seed calendar, at fixed instants either side of the US clock change (2 Nov 2025)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alertd.calendar import load_calendar
from alertd.domain import EventSpec
from alertd.web.board import Card, NextSend, build_board, series_of

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


def _daily(n: int, start: datetime, series: str = "standup") -> list[EventSpec]:
    base = EVENTS[0]
    return [
        replace(
            base,
            id=f"{series}@{start + timedelta(days=i):%Y%m%d}",
            title="Stand-up",
            starts_at=start + timedelta(days=i),
            local_start=(start + timedelta(days=i)).replace(tzinfo=None),
            all_day=False,
            status="confirmed",
        )
        for i in range(n)
    ]


def test_a_daily_series_shows_one_card_for_its_next_occurrence_with_the_count_of_the_rest() -> None:
    events = _daily(400, BEFORE - timedelta(days=3, hours=-1))
    board = build_board(events, now=BEFORE, zone=None, locale="en", next_sends={})
    assert [(c.event.id, c.series, c.more) for c in board.upcoming] == [("standup@20251031", "standup", 396)]
    # The past ones fold into one card too: the newest of them.
    assert [(c.event.id, c.more) for c in board.folded] == [("standup@20251030", 2)]


def test_asking_for_one_series_lists_every_occurrence_of_it_and_nothing_else() -> None:
    events = [*_daily(5, BEFORE + timedelta(hours=1)), *_daily(5, BEFORE + timedelta(hours=2), "retro"), *EVENTS]
    board = build_board(events, now=BEFORE, zone=None, locale="en", next_sends={}, series="retro")
    assert [c.event.id for c in board.upcoming] == [f"retro@202510{d}" for d in (31,)] + [
        f"retro@202511{d:02d}" for d in range(1, 5)
    ]
    assert all(c.more == 0 for c in board.upcoming)
    assert board.folded == []


def test_a_feed_uid_with_an_at_sign_is_one_series_keyed_by_the_last_date() -> None:
    assert series_of("desk:call-7k2m@google.com@20251117") == "desk:call-7k2m@google.com"
    assert series_of("desk:call-7k2m@google.com@20251117T0930") == "desk:call-7k2m@google.com"
    assert series_of("desk:call-7k2m@google.com") is None
    assert series_of("truce-expiry") is None


def test_a_feed_event_names_its_feed_on_the_card() -> None:
    event = replace(EVENTS[-1], id="holidays:abc@example.org", owner="feed")
    board = build_board([event], now=BEFORE, zone=None, locale="en", next_sends={})
    assert [(c.feed, c.series) for c in board.upcoming] == [("holidays", None)]
