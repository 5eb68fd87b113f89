from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.factories import make_channel, make_event

from alertd.domain import EventSpec, event_snapshot
from alertd.messages.rendering import (
    countdown_line,
    day_window,
    describe_change,
    format_day,
    format_when,
    relative_text,
    render,
)

NY = "America/New_York"
DUE = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)


def summit(**extra: Any) -> EventSpec:
    """The Seoul summit: 11:00 KST on 30 Oct 2025 (02:00Z), a timed event."""
    values: dict[str, Any] = {"title": "Trump–Xi meeting", "status": "tentative"} | extra
    return make_event(
        "trump-xi-summit", local_start=datetime(2025, 10, 30, 11, 0), timezone="Asia/Seoul", all_day=False, **values
    )


# --- relative wording ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "text"),
    [(0, "today"), (1, "tomorrow"), (2, "in 2 days"), (5, "in 5 days"), (21, "in 21 days")],
)
def test_relative_text_for_all_day_events_counts_days(days: int, text: str) -> None:
    """All-day events are spoken of in whole days."""
    assert relative_text(days * 86400, days, True) == text


def test_relative_text_for_past_all_day_events() -> None:
    """Yesterday and further back are said as such, never as a negative count."""
    assert relative_text(-86400, -1, True) == "yesterday"
    assert relative_text(-3 * 86400, -3, True) == "3 days ago"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "now"), (30, "now"), (15 * 60, "in 15 minutes"), (60, "in 1 minute"), (2 * 3600, "in 2 hours")],
)
def test_relative_text_for_a_timed_event_later_today(seconds: int, text: str) -> None:
    """Within a few hours a timed event is counted in minutes or hours."""
    assert relative_text(seconds, 0, False) == text


def test_relative_text_for_a_timed_event_many_hours_away_today() -> None:
    """Six hours or more ahead on the same day is simply today."""
    assert relative_text(8 * 3600, 0, False) == "today"


def test_relative_text_for_a_timed_event_that_started() -> None:
    """A timed event that began is ``started … ago``."""
    assert relative_text(-2 * 3600, 0, False) == "started 2 hours ago"
    assert relative_text(-10 * 60, 0, False) == "started 10 minutes ago"


# --- countdown lines -----------------------------------------------------------------------------------------


def test_countdown_line_counts_all_day_events_from_the_readers_date() -> None:
    """At 22:00 on 9 Nov in New York it is already 10 Nov in Shanghai: the 10 Nov event is today for that reader."""
    now = datetime(2025, 11, 10, 3, 0, tzinfo=UTC)
    shanghai = countdown_line(make_event(), now, "Asia/Shanghai")
    new_york = countdown_line(make_event(), now, "America/New_York")
    assert (shanghai.days, shanghai.text) == (0, "today")
    assert (new_york.days, new_york.text) == (1, "tomorrow")


def test_countdown_line_counts_timed_events_in_the_readers_zone() -> None:
    """The 30 Oct Seoul summit is today for a New York reader on the 29th, tomorrow for one in Seoul."""
    now = datetime(2025, 10, 29, 13, 0, tzinfo=UTC)
    assert countdown_line(summit(), now, NY).text == "today"
    assert countdown_line(summit(), now, "Asia/Seoul").text == "tomorrow"


# Kuala Lumpur's all-day 26 Oct 2025 runs from 12:00 EDT on Sat 25 Oct to 12:00 EDT on Sun 26 Oct in New York.
KL_DAY = make_event("kl", local_start=datetime(2025, 10, 26), timezone="Asia/Kuala_Lumpur")


def test_an_all_day_event_elsewhere_counts_to_the_date_it_begins_in_the_readers_zone() -> None:
    """Its 3d reminder (09:00 in Kuala Lumpur on the 23rd, 21:00 on the 22nd in New York) reads "in 3 days" beside
    Sat 25 Oct and the event's own Sun 26 Oct, not "in 4 days"."""
    line = countdown_line(KL_DAY, datetime(2025, 10, 23, 1, 0, tzinfo=UTC), NY)
    assert (line.text, line.day_text) == ("in 3 days", "Sat 25 Oct 2025; Sun 26 Oct 2025 in Asia/Kuala_Lumpur")


@pytest.mark.parametrize("reader", [NY, "Asia/Shanghai", "America/Los_Angeles", "Asia/Kuala_Lumpur", "UTC"])
def test_an_all_day_events_at_start_reminder_reads_today_in_every_zone(reader: str) -> None:
    """At 09:00 on the day in its own zone the event is running everywhere, so every reader hears "today", beside
    their own today's date (never "tomorrow" on one channel and "today" on another)."""
    now = datetime(2025, 10, 26, 1, 0, tzinfo=UTC)  # 0m: 09:00 in Kuala Lumpur
    line = countdown_line(KL_DAY, now, reader)
    assert (line.days, line.text, line.day) == (0, "today", now.astimezone(ZoneInfo(reader)).date())


def test_an_all_day_event_still_running_in_its_zone_is_not_yesterday() -> None:
    """At 06:00 PST on 10 Nov it is still New York's 10 Nov: a Los Angeles reader hears "today", not "yesterday"."""
    line = countdown_line(make_event(), datetime(2025, 11, 10, 14, 0, tzinfo=UTC), "America/Los_Angeles")
    assert (line.text, line.day_text) == ("today", "Mon 10 Nov 2025")


def test_a_timed_event_is_dated_in_the_readers_zone_beside_its_own_date() -> None:
    """The Seoul summit, read in New York on the 29th: today, Wed 29 Oct, which is Thu 30 Oct in Seoul."""
    line = countdown_line(summit(), datetime(2025, 10, 29, 13, 0, tzinfo=UTC), NY)
    assert (line.text, line.day, line.day_text) == (
        "today",
        date(2025, 10, 29),
        "Wed 29 Oct 2025; Thu 30 Oct 2025 in Asia/Seoul",
    )


def test_the_event_zones_own_date_is_worded_in_the_readers_language() -> None:
    """The two dates follow the locale's own order and words."""
    line = countdown_line(summit(), datetime(2025, 10, 29, 13, 0, tzinfo=UTC), NY, locale="de")
    assert line.day_text == "Mi., 29. Okt. 2025; Do., 30. Okt. 2025 in Asia/Seoul"


def test_countdown_line_carries_exact_seconds() -> None:
    """Seconds are exact elapsed time to the start, for the payload's ``countdown.seconds``."""
    now = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
    line = countdown_line(make_event(), now, NY)
    assert line.seconds == int((make_event().starts_at - now).total_seconds())
    assert line.seconds == 15 * 3600


# --- times and dates -----------------------------------------------------------------------------------------


def test_format_day_spells_weekday_day_month_year() -> None:
    """Days read like ``Mon 10 Nov 2025`` (no zero padding)."""
    assert format_day(date(2025, 11, 3)) == "Mon 3 Nov 2025"


def test_format_when_shows_the_event_zone() -> None:
    """A timed event is shown in its own zone with abbreviation and IANA name."""
    assert format_when(summit()) == "Thu 30 Oct 2025 11:00 KST (Asia/Seoul)"


def test_format_when_converts_to_another_zone() -> None:
    """In New York the Seoul summit is the evening before."""
    assert format_when(summit(), NY) == "Wed 29 Oct 2025 22:00 EDT (America/New_York)"


def test_format_when_uses_the_abbreviation_in_force_on_the_day() -> None:
    """New York is EDT before 2 Nov 2025 and EST after it."""
    before = make_event(local_start=datetime(2025, 11, 1, 9, 0), all_day=False)
    after = make_event(local_start=datetime(2025, 11, 3, 9, 0), all_day=False)
    assert format_when(before) == "Sat 1 Nov 2025 09:00 EDT (America/New_York)"
    assert format_when(after) == "Mon 3 Nov 2025 09:00 EST (America/New_York)"


def test_format_when_shows_all_day_events_as_a_date() -> None:
    """An all-day event is a date in its zone; in another it is the stretch of that zone's time the date covers."""
    assert format_when(make_event()) == "Mon 10 Nov 2025 (all day, America/New_York)"
    assert format_when(make_event(), "Asia/Shanghai") == (
        "Mon 10 Nov 2025 13:00 CST – Tue 11 Nov 2025 13:00 CST (Asia/Shanghai)"
    )


def test_format_when_leaves_out_an_all_day_date_that_is_the_same_day_elsewhere() -> None:
    """In a zone keeping the same clock as the event's (Toronto, for New York) the date needs no second rendering."""
    assert format_when(make_event(), "America/Toronto") == ""


def test_day_window_spans_whole_local_days_across_dst() -> None:
    """2 Nov 2025 in New York is 25 hours long: from 04:00Z to 05:00Z the next day."""
    start, end = day_window(date(2025, 11, 2), NY, 1)
    assert (start, end) == (datetime(2025, 11, 2, 4, 0, tzinfo=UTC), datetime(2025, 11, 3, 5, 0, tzinfo=UTC))
    assert end - start == timedelta(hours=25)


# --- change sentences ----------------------------------------------------------------------------------------


def test_describe_a_move() -> None:
    """A date change reads ``moved from … to …`` (SPEC §4 example)."""
    before = event_snapshot(make_event(local_start=datetime(2025, 11, 1)))
    after = event_snapshot(make_event())
    text = describe_change({"type": "changed", "before": before, "after": after})
    assert text == "moved from Sat 1 Nov 2025 to Mon 10 Nov 2025"


def test_describe_a_move_to_the_second_run_of_a_repeated_hour() -> None:
    """The same wall clock in another instant is told apart by the zone's abbreviations."""
    before = event_snapshot(make_event(local_start=datetime(2025, 11, 2, 1, 30), all_day=False))
    after = event_snapshot(make_event(local_start=datetime(2025, 11, 2, 1, 30, fold=1), all_day=False))
    text = describe_change({"type": "changed", "before": before, "after": after})
    assert text == "moved from Sun 2 Nov 2025 01:30 EDT to Sun 2 Nov 2025 01:30 EST"


def test_describe_a_status_change_and_rename_together() -> None:
    """Several changes are listed in one sentence."""
    before = event_snapshot(summit())
    after = event_snapshot(summit(status="confirmed", title="Trump–Xi summit"))
    text = describe_change({"type": "changed", "before": before, "after": after})
    assert text == "status changed from tentative to confirmed; renamed from “Trump–Xi meeting”"


def test_describe_a_rename_of_the_id_says_the_event_is_still_there() -> None:
    """A renamed id reads as the same event listed under a new id, with the title saying it changed, not gone."""
    before = event_snapshot(make_event("truce-end")) | {"id": "truce-end"}
    after = event_snapshot(make_event()) | {"id": "truce-expiry"}
    change = {"type": "renamed", "before": before, "after": after}
    message = render(
        id="chg:1", kind="change", channel=make_channel(), due_at=DUE, now=DUE, event=make_event(), payload=change
    )
    assert message.title == "Changed: Trade truce expires"
    assert message.text.splitlines()[0] == (
        "Trade truce expires: now listed as “truce-expiry” (was “truce-end”), at the same time."
    )


def test_describe_added_and_removed() -> None:
    """Added events name their time; removed ones say their reminders are cancelled."""
    snap = event_snapshot(summit())
    assert describe_change({"type": "added", "before": None, "after": snap}) == (
        "added to the calendar for Thu 30 Oct 2025 11:00"
    )
    assert "removed" in describe_change({"type": "removed", "before": snap, "after": None})


# --- render --------------------------------------------------------------------------------------------------


def test_render_reminder_names_event_and_distance() -> None:
    """A reminder's title says what and when; its text shows the time in both zones."""
    message = render(
        id="rem:1",
        kind="reminder",
        channel=make_channel(timezone=NY),
        due_at=datetime(2025, 10, 29, 13, 0, tzinfo=UTC),
        now=datetime(2025, 10, 29, 13, 0, tzinfo=UTC),
        event=summit(),
        offset="1d",
    )
    assert message.title == "Trump–Xi meeting — today"
    assert "Thu 30 Oct 2025 11:00 KST (Asia/Seoul) = Wed 29 Oct 2025 22:00 EDT (America/New_York)" in message.text
    assert "Status: tentative" in message.text
    assert message.countdown is not None
    assert (message.offset, message.channel_timezone) == ("1d", NY)


def test_render_reminder_of_a_second_run_shows_its_own_offset() -> None:
    """The reminder of an event at 01:30-05:00 on the fall-back night shows 01:30 EST, not the first 01:30 EDT."""
    event = make_event(local_start=datetime(2025, 11, 2, 1, 30, fold=1), all_day=False)
    now = datetime(2025, 11, 2, 4, 30, tzinfo=UTC)
    message = render(id="rem:1", kind="reminder", channel=make_channel(timezone=NY), due_at=now, now=now, event=event)
    assert message.text.splitlines()[1] == "Sun 2 Nov 2025 01:30 EST (America/New_York)"
    assert message.title == "Trade truce expires — in 2 hours"


def test_render_reminder_in_the_event_zone_shows_one_time() -> None:
    """When the channel shares the event's zone the time is not repeated."""
    message = render(
        id="rem:1", kind="reminder", channel=make_channel(timezone=NY), due_at=DUE, now=DUE, event=make_event()
    )
    assert message.text.splitlines()[1] == "Mon 10 Nov 2025 (all day, America/New_York)"
    assert "Status" not in message.text


def test_render_carries_late_and_sent_at() -> None:
    """A catch-up send is marked late and stamped with the moment it is sent."""
    sent = DUE + timedelta(hours=2)
    message = render(
        id="rem:1", kind="reminder", channel=make_channel(), due_at=DUE, now=sent, event=make_event(), late=True
    )
    assert (message.late, message.sent_at, message.due_at) == (True, sent, DUE)


def test_render_change_describes_the_change() -> None:
    """A change notice's text leads with what changed and carries the change for channels."""
    before, after = make_event(local_start=datetime(2025, 11, 1)), make_event()
    change = {"type": "changed", "before": event_snapshot(before), "after": event_snapshot(after)}
    message = render(
        id="chg:1", kind="change", channel=make_channel(), due_at=DUE, now=DUE, event=after, payload=change
    )
    assert message.title == "Moved: Trade truce expires"
    assert message.text.startswith("Trade truce expires: moved from Sat 1 Nov 2025 to Mon 10 Nov 2025.")
    assert message.change == change
    assert message.offset is None


def test_render_countdown_lists_events_soonest_first() -> None:
    """A digest has one line per event, ordered by start, titled with the channel's local day."""
    far = make_event("far", title="Far deadline", local_start=datetime(2025, 11, 20))
    near = make_event("near", title="Near deadline", local_start=datetime(2025, 11, 10))
    due = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
    message = render(
        id="cd:desk:20251109",
        kind="countdown",
        channel=make_channel(id="desk", timezone=NY),
        due_at=due,
        now=due,
        digest=[far, near],
    )
    assert message.title == "Countdown for Sun 9 Nov 2025"
    assert message.text.splitlines() == [
        "• Near deadline — tomorrow (Mon 10 Nov 2025)",
        "• Far deadline — in 11 days (Thu 20 Nov 2025)",
    ]
    assert [line.event.id for line in message.lines] == ["near", "far"]


def test_render_test_notification_names_the_channel() -> None:
    """``send-test`` needs no event."""
    message = render(id="test:1", kind="test", channel=make_channel(id="audit"), due_at=DUE, now=DUE)
    assert message.title == "alertd test notification"
    assert "'audit'" in message.text


def test_render_reminder_without_event_is_an_error() -> None:
    """A reminder or change with no event is a programming error, reported with the notification id."""
    with pytest.raises(ValueError, match="rem:orphan"):
        render(id="rem:orphan", kind="reminder", channel=make_channel(), due_at=DUE, now=DUE)
