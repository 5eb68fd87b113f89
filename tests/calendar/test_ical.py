"""Reading iCalendar feeds into events: real-world-shaped exports from Google and Outlook, and hostile input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from support.factories import offsets

from alertd.calendar.ical import MAX_OCCURRENCES, feed_event_id, feed_events
from alertd.domain import Defaults, EventSpec, Route, SourceSpec
from alertd.errors import FeedError
from alertd.planning import plan_reminders
from alertd.workdays import WorkdayCalendar

FEEDS = Path(__file__).parent / "feeds"
NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
HORIZON = timedelta(days=400)
DEFAULTS = Defaults(reminders=(), all_day_at=time(9, 0), countdown=None, notify=())


def source(id: str = "desk", timezone: str = "America/New_York", **changes: object) -> SourceSpec:
    values: dict[str, object] = {
        "id": id,
        "url": "https://calendar.example.com/ical/secret-token/basic.ics",
        "path": None,
        "refresh": timedelta(minutes=15),
        "timezone": timezone,
        "reminders": offsets("1d"),
        "notify": ("hooks",),
    } | changes
    return SourceSpec(**values)  # type: ignore[arg-type]


def read(name: str, src: SourceSpec | None = None, now: datetime = NOW) -> dict[str, EventSpec]:
    body = (FEEDS / name).read_bytes()
    return {e.id: e for e in feed_events(body, src or source(), DEFAULTS, now=now, horizon=HORIZON).events}


def ics(*events: str, head: str = "") -> bytes:
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *filter(None, [head]), *events, "END:VCALENDAR"]
    return ("\r\n".join(parts) + "\r\n").encode()


def vevent(uid: str, start: str, *extra: str) -> str:
    return "\r\n".join(["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART{start}", "SUMMARY:Thing", *extra, "END:VEVENT"])


# --- Google: X-WR-TIMEZONE, UTC times, a weekly series across the end of DST ---


def test_google_utc_times_are_shown_in_the_calendars_x_wr_timezone() -> None:
    event = read("google.ics")["desk:3q1v0sd9kk8f2m3r5a7c9e1g3i@google.com"]
    assert (event.timezone, event.local_start) == ("America/New_York", datetime(2025, 11, 10, 0, 1))
    assert event.starts_at == datetime(2025, 11, 10, 5, 1, tzinfo=UTC)


def test_a_weekly_series_keeps_its_wall_clock_time_across_the_end_of_dst() -> None:
    events = read("google.ics")
    before = events["desk:weekly-tariff-call-7k2m@google.com@20251027"]
    after = events["desk:weekly-tariff-call-7k2m@google.com@20251103"]
    assert before.local_start.time() == after.local_start.time() == time(9, 0)
    assert (before.starts_at.hour, after.starts_at.hour) == (13, 14)


def test_an_exdate_removes_that_occurrence() -> None:
    assert "desk:weekly-tariff-call-7k2m@google.com@20251110" not in read("google.ics")


def test_a_moved_occurrence_keeps_the_id_of_its_original_date() -> None:
    moved = read("google.ics")["desk:weekly-tariff-call-7k2m@google.com@20251117"]
    assert moved.local_start == datetime(2025, 11, 18, 10, 0)
    assert moved.title == "Weekly tariff call (moved to Tuesday)"


def test_a_cancelled_occurrence_is_an_event_with_the_cancelled_status() -> None:
    assert read("google.ics")["desk:weekly-tariff-call-7k2m@google.com@20251124"].status == "cancelled"


def test_tentative_maps_to_tentative_and_no_status_to_confirmed() -> None:
    events = read("google.ics")
    assert events["desk:1a2b3c4d5e6f7g8h9i0j@google.com"].status == "tentative"
    body = ics(vevent("plain", ":20251101T100000Z"))
    (only,) = feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON).events
    assert only.status == "confirmed"


def test_an_all_day_event_is_a_date_in_the_sources_zone() -> None:
    event = read("google.ics", source(timezone="Asia/Shanghai"))["desk:6h2k9m1n4p7q0r3s5t8u@google.com"]
    assert event.all_day
    assert event.local_start == datetime(2025, 11, 27)
    assert event.starts_at == datetime(2025, 11, 26, 16, 0, tzinfo=UTC)


def test_feed_events_are_owned_by_the_feed_and_carry_the_sources_defaults() -> None:
    event = next(iter(read("google.ics").values()))
    assert event.owner == "feed"
    assert (event.reminders, event.notify) == (offsets("1d"), ("hooks",))


def test_routes_apply_to_feed_events_by_their_tags_and_categories() -> None:
    defaults = Defaults(
        reminders=(), all_day_at=time(9), countdown=None, notify=(), routes=(Route(notify=("mail",), tags=("trade",)),)
    )
    body = ics(vevent("cat", ":20251101T100000Z", "CATEGORIES:Trade,Other"))
    (event,) = feed_events(body, source(), defaults, now=NOW, horizon=HORIZON).events
    assert "trade" in event.tags
    assert event.notify == ("hooks", "mail")


# --- Outlook: Windows zone names, long UIDs ---


def test_an_outlook_windows_zone_with_its_vtimezone_maps_to_iana() -> None:
    events = read("outlook.ics")
    review = next(e for e in events.values() if e.title.startswith("Framework review"))
    assert (review.timezone, review.local_start) == ("America/New_York", datetime(2025, 10, 26, 9, 0))
    assert review.starts_at == datetime(2025, 10, 26, 13, 0, tzinfo=UTC)


def test_an_outlook_windows_zone_without_a_vtimezone_maps_to_iana() -> None:
    briefing = next(e for e in read("outlook.ics").values() if e.title == "Beijing ministry briefing")
    assert (briefing.timezone, briefing.starts_at) == ("Asia/Shanghai", datetime(2025, 11, 5, 2, 0, tzinfo=UTC))


def test_a_long_uid_becomes_a_short_digest_the_same_on_every_read() -> None:
    first, second = read("outlook.ics"), read("outlook.ics")
    assert first.keys() == second.keys()
    assert all(len(i) <= 120 and i.startswith("desk:h") for i in first)


def test_an_outlook_series_has_its_exception_and_its_override() -> None:
    filings = {i: e for i, e in read("outlook.ics").items() if "Monthly filing" in e.title}
    days = sorted(i.rsplit("@", 1)[1] for i in filings)
    assert days == ["20251103", "20260103", "20260203"]  # 20251203 is an EXDATE
    moved = next(e for i, e in filings.items() if i.endswith("@20260103"))
    assert moved.local_start == datetime(2026, 1, 2, 12, 0)


def test_feed_event_ids_keep_a_plain_uid_and_digest_an_odd_one() -> None:
    assert feed_event_id("desk", "abc@google.com", date(2025, 11, 3)) == "desk:abc@google.com@20251103"
    odd = feed_event_id("desk", "has spaces/and:colons", None)
    assert odd == feed_event_id("desk", "has spaces/and:colons", None)
    assert " " not in odd
    assert odd.count(":") == 1


# --- odd and hostile input ---


def test_a_floating_time_is_read_in_the_sources_zone() -> None:
    (event,) = feed_events(
        ics(vevent("f", ":20251101T090000")), source(timezone="Europe/Berlin"), DEFAULTS, now=NOW, horizon=HORIZON
    ).events
    assert (event.timezone, event.starts_at) == ("Europe/Berlin", datetime(2025, 11, 1, 8, 0, tzinfo=UTC))


def test_a_floating_time_in_a_dst_gap_takes_the_offset_from_before_the_gap() -> None:
    (event,) = feed_events(ics(vevent("gap", ":20260308T023000")), source(), DEFAULTS, now=NOW, horizon=HORIZON).events
    assert event.starts_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_a_time_in_a_dst_gap_keeps_the_wall_clock_the_feed_wrote() -> None:
    """As in a calendar file: 02:30 on the spring-forward night, so a reminder days before falls at 02:30 too."""
    body = ics(vevent("gap", ":20260308T023000"), vevent("zoned", ";TZID=America/New_York:20260308T023000"))
    read_ = feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON)
    assert [(e.local_start, e.starts_at) for e in read_.events] == 2 * [
        (datetime(2026, 3, 8, 2, 30), datetime(2026, 3, 8, 7, 30, tzinfo=UTC))
    ]


def test_a_floating_time_in_a_dst_fold_is_its_first_occurrence() -> None:
    (event,) = feed_events(ics(vevent("fold", ":20251102T013000")), source(), DEFAULTS, now=NOW, horizon=HORIZON).events
    assert event.starts_at == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_an_endless_rule_stops_at_the_horizon() -> None:
    body = ics(vevent("daily", ":20250101T090000Z", "RRULE:FREQ=DAILY"))
    events = feed_events(body, source(), DEFAULTS, now=NOW, horizon=timedelta(days=30)).events
    assert 30 <= len(events) <= 32
    assert max(e.starts_at for e in events) < NOW + timedelta(days=30)


def test_occurrences_long_past_are_not_read() -> None:
    body = ics(vevent("old", ":20200101T090000Z"), vevent("new", ":20251101T090000Z"))
    assert [e.id for e in feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON).events] == ["desk:new"]


def test_more_occurrences_than_the_bound_are_refused_with_the_bound_named() -> None:
    body = ics(vevent("hourly", ":20251020T000000Z", "RRULE:FREQ=HOURLY"))
    with pytest.raises(FeedError, match="more than 1000 occurrences"):
        feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON, max_occurrences=1000)
    assert MAX_OCCURRENCES >= 5000


def test_a_series_repeating_every_minute_is_skipped_and_the_rest_is_read() -> None:
    body = ics(vevent("minutely", ":20251020T000000Z", "RRULE:FREQ=MINUTELY"), vevent("fine", ":20251101T090000Z"))
    read_ = feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON)
    assert [e.id for e in read_.events] == ["desk:fine"]
    assert read_.skipped == ["the series 'minutely': it repeats more often than hourly"]


def test_a_series_repeating_within_a_day_has_an_id_per_occurrence() -> None:
    body = ics(vevent("hourly", ":20251101T090000Z", "RRULE:FREQ=HOURLY;COUNT=3"))
    ids = [e.id for e in feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON).events]
    assert ids == ["desk:hourly@20251101T0900", "desk:hourly@20251101T1000", "desk:hourly@20251101T1100"]


def test_an_occurrence_on_a_week_boundary_is_read_once() -> None:
    body = ics(vevent("weekly", ":20251019T120000Z", "RRULE:FREQ=DAILY;COUNT=40", "DTEND:20251020T120000Z"))
    ids = [e.id for e in feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON).events]
    assert len(ids) == len(set(ids)) == 40 - 0  # Oct 19 12:00 is within the day looked back


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>Sign in</html>", b"BEGIN:VCALENDAR\r\nthis is not\r\n", b"\x00\xff" * 1000],
    ids=["empty", "html", "broken", "binary"],
)
def test_garbage_is_a_one_line_feed_error(body: bytes) -> None:
    with pytest.raises(FeedError) as caught:
        feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON)
    assert "\n" not in str(caught.value)
    assert "'desk'" in str(caught.value)


def test_a_duplicate_uid_yields_one_event() -> None:
    body = ics(vevent("twice", ":20251101T090000Z"), vevent("twice", ":20251102T090000Z"))
    assert [e.id for e in feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON).events] == ["desk:twice"]


def test_an_event_without_a_uid_gets_a_stable_id() -> None:
    event = "\r\n".join(["BEGIN:VEVENT", "DTSTART:20251101T090000Z", "SUMMARY:No uid", "END:VEVENT"])
    ids = [feed_events(ics(event), source(), DEFAULTS, now=NOW, horizon=HORIZON).events[0].id for _ in range(2)]
    assert ids[0] == ids[1]


def test_a_huge_title_is_cut() -> None:
    body = ics(vevent("long", ":20251101T090000Z").replace("SUMMARY:Thing", "SUMMARY:" + "x" * 5000))
    (event,) = feed_events(body, source(), DEFAULTS, now=NOW, horizon=HORIZON).events
    assert len(event.title) <= 500


# --- Business days: a feed's 3bd counts the calendar's working days, as a file event's does ---


def test_a_feeds_business_day_reminder_counts_the_calendars_working_days() -> None:
    """Three business days before Monday 1 Dec 2025 in the US skip the weekend and Thanksgiving: Tue 25 Nov."""
    defaults = replace(DEFAULTS, workdays=WorkdayCalendar("US"))
    body = ics(vevent("filing", ";TZID=America/New_York:20251201T090000"))
    (event,) = feed_events(body, source(reminders=offsets("3bd")), defaults, now=NOW, horizon=HORIZON).events
    (due,) = plan_reminders(event, ["hooks"])
    assert due.due_at == datetime(2025, 11, 25, 14, 0, tzinfo=UTC)


def test_a_business_day_reminder_out_of_reach_is_left_out_saying_why() -> None:
    """Every day closed: no business day within reach, so that reminder is dropped and the read says so."""
    closed = WorkdayCalendar("US", weekend=frozenset(range(7)))
    defaults = replace(DEFAULTS, workdays=closed)
    body = ics(vevent("filing", ";TZID=America/New_York:20251201T090000"))
    found = feed_events(body, source(reminders=offsets("3bd", "1d")), defaults, now=NOW, horizon=HORIZON)
    (event,) = found.events
    assert [o.text for o in event.reminders] == ["1d"]
    assert any("business-day reminders of 'desk:filing'" in s for s in found.skipped)
