from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from support.factories import make_channel, make_event, offsets

from alertd.domain import CountdownSpec, EventSpec
from alertd.planning.planner import (
    countdown_listed,
    digest_events,
    event_fingerprint,
    plan_changes,
    plan_countdowns,
    plan_reminders,
    reminder_id,
    renames,
)

NY = "America/New_York"
NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
DIGEST = CountdownSpec(within_days=14, at=time(9, 0))


def timed(id: str = "truce-expiry", local_start: datetime = datetime(2025, 11, 10), **extra: Any) -> EventSpec:
    """A timed (not all-day) event at ``local_start`` wall-clock time (New York unless ``timezone`` is given)."""
    return make_event(id, local_start=local_start, all_day=False, **extra)


def due_by_offset(event: EventSpec, channel: str = "hooks") -> dict[str, datetime]:
    return {p.offset or "": p.due_at for p in plan_reminders(event, [channel])}


# --- reminder ids ------------------------------------------------------------------------------------------


def test_reminder_id_names_event_offset_channel_and_utc_due() -> None:
    """The id spells out what it is for, with the due instant in compact UTC."""
    due = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
    assert reminder_id("truce-expiry", "1d", "hooks", due) == "rem:truce-expiry:1d:hooks:20251109T140000Z"


def test_reminder_ids_are_the_same_on_every_planning() -> None:
    """Planning the same event twice yields identical ids, so re-planning never duplicates rows."""
    event = make_event(reminders=offsets("7d", "1d", "0m"), notify=("hooks",))
    first = [p.id for p in plan_reminders(event, ["hooks", "mail"])]
    second = [p.id for p in plan_reminders(event, ["hooks", "mail"])]
    assert first == second
    assert len(set(first)) == 6


def test_reminder_id_changes_when_the_due_instant_changes() -> None:
    """Moving an event gives its reminders new ids, so old rows can be cancelled and new ones inserted."""
    before = make_event(reminders=offsets("1d"))
    after = make_event(local_start=datetime(2025, 11, 11), reminders=offsets("1d"))
    assert {p.id for p in plan_reminders(before, ["hooks"])}.isdisjoint(p.id for p in plan_reminders(after, ["hooks"]))


def test_one_reminder_per_offset_and_channel() -> None:
    """Each offset is planned once for each channel, carrying kind, event and offset."""
    event = make_event(reminders=offsets("3d", "1d"))
    planned = list(plan_reminders(event, ["hooks", "mail"]))
    assert sorted((p.offset, p.channel) for p in planned) == [
        ("1d", "hooks"),
        ("1d", "mail"),
        ("3d", "hooks"),
        ("3d", "mail"),
    ]
    assert {(p.kind, p.event_id) for p in planned} == {("reminder", "truce-expiry")}


# --- nominal vs exact offsets across the US DST change (2025-11-02) ----------------------------------------


def test_nominal_days_keep_the_wall_clock_time_across_dst() -> None:
    """14d before midnight 10 Nov (EST) is midnight 27 Oct (EDT): 04:00Z, not 05:00Z (SPEC §3 example)."""
    event = timed(reminders=offsets("14d"))
    assert due_by_offset(event)["14d"] == datetime(2025, 10, 27, 4, 0, tzinfo=UTC)


def test_exact_hours_count_elapsed_time_across_dst() -> None:
    """336h before midnight 10 Nov (EST) is exactly 14×24 hours earlier: 05:00Z (SPEC §3 example)."""
    event = timed(reminders=offsets("336h"))
    assert due_by_offset(event)["336h"] == event.starts_at - timedelta(hours=336)
    assert due_by_offset(event)["336h"] == datetime(2025, 10, 27, 5, 0, tzinfo=UTC)


def test_nominal_weeks_keep_the_wall_clock_time_across_dst() -> None:
    """1w before 09:00 EST on 5 Nov is 09:00 EDT on 29 Oct."""
    event = timed(local_start=datetime(2025, 11, 5, 9, 0), reminders=offsets("1w"))
    assert due_by_offset(event)["1w"] == datetime(2025, 10, 29, 13, 0, tzinfo=UTC)


def test_exact_minutes_count_elapsed_time_across_dst() -> None:
    """1440m before 00:30 EST on 3 Nov is 24 real hours earlier; ``1d`` is 25 hours earlier (the day was longer)."""
    event = timed(local_start=datetime(2025, 11, 3, 0, 30), reminders=offsets("1440m", "1d"))
    due = due_by_offset(event)
    assert due["1440m"] == event.starts_at - timedelta(minutes=1440)
    assert due["1440m"] - due["1d"] == timedelta(hours=1)


def test_follow_up_offset_fires_after_the_start() -> None:
    """``+1d`` is a follow-up: the same wall-clock time one day later, across the DST change."""
    event = timed(local_start=datetime(2025, 11, 1, 12, 0), reminders=offsets("+1d"))
    (planned,) = plan_reminders(event, ["hooks"])
    assert planned.due_at == datetime(2025, 11, 2, 17, 0, tzinfo=UTC)
    assert planned.expires_at is None


def test_zero_offset_fires_at_the_start_of_a_timed_event() -> None:
    """``0m`` is due exactly at the event's start."""
    event = timed(local_start=datetime(2025, 10, 30, 11, 0), timezone="Asia/Seoul", reminders=offsets("0m"))
    assert due_by_offset(event)["0m"] == event.starts_at


# --- all-day events ------------------------------------------------------------------------------------------


def test_all_day_reminders_fire_at_all_day_at_in_the_event_zone() -> None:
    """1d before the all-day 10 Nov fires at 09:00 New York time on 9 Nov (14:00Z, EST)."""
    event = make_event(reminders=offsets("1d"))
    assert due_by_offset(event)["1d"] == datetime(2025, 11, 9, 14, 0, tzinfo=UTC)


def test_all_day_reminders_before_dst_change_use_daylight_time() -> None:
    """10d before 10 Nov is 31 Oct, still EDT: 09:00 local is 13:00Z."""
    event = make_event(reminders=offsets("10d"))
    assert due_by_offset(event)["10d"] == datetime(2025, 10, 31, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize("offset", ["0d", "0m"])
def test_all_day_zero_offset_fires_at_all_day_at_on_the_day(offset: str) -> None:
    """``0d`` and ``0m`` fire at ``all_day_at`` on the day itself, not at midnight."""
    event = make_event(reminders=offsets(offset), all_day_at=time(8, 30))
    assert due_by_offset(event) == {offset: datetime(2025, 11, 10, 13, 30, tzinfo=UTC)}


def test_default_reminders_tell_an_all_day_event_today_once() -> None:
    """With the default [7d, 3d, 1d, 2h, 0m] an all-day event gets one reminder on its day (0m at 09:00), not a
    second "today" two hours earlier: ``2h`` lands on the same day."""
    event = make_event(reminders=offsets("7d", "3d", "1d", "2h", "0m"))
    assert due_by_offset(event) == {
        "7d": datetime(2025, 11, 3, 14, 0, tzinfo=UTC),
        "3d": datetime(2025, 11, 7, 14, 0, tzinfo=UTC),
        "1d": datetime(2025, 11, 9, 14, 0, tzinfo=UTC),
        "0m": datetime(2025, 11, 10, 14, 0, tzinfo=UTC),
    }


@pytest.mark.parametrize(
    ("offset", "day"), [("2h", 10), ("+2h", 10), ("12h", 9), ("36h", 8), ("1d12h", 8), ("+1d", 11)]
)
def test_an_offset_on_an_all_day_event_picks_the_day_and_fires_at_all_day_at(offset: str, day: int) -> None:
    """Counted from 09:00 on the event's date an offset lands on some day; the reminder fires at 09:00 on it."""
    event = make_event(reminders=offsets(offset))
    assert due_by_offset(event) == {offset: datetime(2025, 11, day, 14, 0, tzinfo=UTC)}


def test_an_exact_offset_alone_on_its_day_is_kept_under_its_own_name() -> None:
    """``12h`` without ``1d`` is the day-before reminder; beside ``1d`` it is the same one and ``1d`` is kept."""
    assert list(due_by_offset(make_event(reminders=offsets("12h", "0m")))) == ["12h", "0m"]
    assert list(due_by_offset(make_event(reminders=offsets("12h", "1d")))) == ["1d"]


def test_all_day_reminders_follow_the_event_zone_not_utc() -> None:
    """An all-day event in Kuala Lumpur fires at 09:00 Kuala Lumpur time (01:00Z)."""
    event = make_event(
        "kl-framework", local_start=datetime(2025, 10, 26), timezone="Asia/Kuala_Lumpur", reminders=offsets("1d")
    )
    assert due_by_offset(event)["1d"] == datetime(2025, 10, 25, 1, 0, tzinfo=UTC)


def test_all_day_at_in_a_dst_gap_uses_the_offset_from_before_the_gap() -> None:
    """02:30 on 8 Mar 2026 does not exist in New York; RFC 5545 reads it with EST (-05:00): 07:30Z."""
    event = make_event(local_start=datetime(2026, 3, 9), all_day_at=time(2, 30), reminders=offsets("1d"))
    assert due_by_offset(event)["1d"] == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_all_day_at_in_a_dst_fold_resolves_to_the_first_occurrence() -> None:
    """01:30 on 2 Nov 2025 happens twice in New York; the first (EDT, 05:30Z) is taken."""
    event = make_event(local_start=datetime(2025, 11, 3), all_day_at=time(1, 30), reminders=offsets("1d"))
    assert due_by_offset(event)["1d"] == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_reminders_of_a_second_run_count_from_its_instant() -> None:
    """An event at the second 01:30 of the fall-back night (06:30Z) is reminded from that instant, not 05:30Z."""
    second = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    event = timed(local_start=datetime(2025, 11, 2, 1, 30, fold=1), reminders=offsets("1d", "2h", "0m"))
    assert event.starts_at == second
    assert due_by_offset(event) == {
        "1d": datetime(2025, 11, 1, 5, 30, tzinfo=UTC),
        "2h": second - timedelta(hours=2),
        "0m": second,
    }


def test_reminders_of_an_all_day_event_on_a_skipped_midnight_fire_at_all_day_at() -> None:
    """Santiago skips midnight on 2025-09-07; the event is valid and its reminders fire at 09:00 local."""
    event = make_event(local_start=datetime(2025, 9, 7), timezone="America/Santiago", reminders=offsets("1d", "0m"))
    assert due_by_offset(event) == {
        "1d": datetime(2025, 9, 6, 13, 0, tzinfo=UTC),
        "0m": datetime(2025, 9, 7, 12, 0, tzinfo=UTC),
    }


def test_reminders_before_the_start_expire_at_the_start() -> None:
    """A reminder is not worth sending once its event has begun."""
    event = timed(reminders=offsets("1d"))
    (planned,) = plan_reminders(event, ["hooks"])
    assert planned.expires_at == event.starts_at


# --- event lifecycle -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["tentative", "confirmed"])
def test_events_that_may_still_happen_get_reminders(status: str) -> None:
    """Tentative and confirmed events are reminded of (the summit was tentative and still mattered)."""
    event = make_event(status=status, reminders=offsets("1d"))
    assert len(list(plan_reminders(event, ["hooks"]))) == 1


@pytest.mark.parametrize("status", ["postponed", "cancelled"])
def test_postponed_and_cancelled_events_get_no_reminders(status: str) -> None:
    """An event that will not happen on its date must not remind anyone."""
    event = make_event(status=status, reminders=offsets("7d", "1d"))
    assert list(plan_reminders(event, ["hooks"])) == []


def test_planner_returns_past_reminders_for_the_caller_to_filter() -> None:
    """Planning is pure: it does not know ``now``; reminders long past are still described."""
    event = make_event(local_start=datetime(2020, 1, 10), reminders=offsets("1d"))
    (planned,) = plan_reminders(event, ["hooks"])
    assert planned.due_at < NOW


# --- countdown digests ---------------------------------------------------------------------------------------


def digest_days(planned_ids: list[str]) -> list[str]:
    return [p.rsplit(":", 1)[1] for p in planned_ids]


def test_countdown_one_digest_per_channel_per_day_in_the_window() -> None:
    """An all-day event on 10 Nov with a 14-day window is listed on 27 Oct … 10 Nov: 15 daily digests."""
    event = make_event(notify=("hooks",))
    planned = plan_countdowns([event], {"hooks": make_channel()}, DIGEST)
    assert len(planned) == 15
    assert planned[0].id == "cd:hooks:20251027"
    assert planned[-1].id == "cd:hooks:20251110"
    assert len({p.id for p in planned}) == 15


def test_countdown_digests_are_shared_by_the_events_of_a_channel() -> None:
    """Two events on overlapping windows still give one digest a day, not one per event."""
    events = [
        make_event("a", local_start=datetime(2025, 11, 10), notify=("hooks",)),
        make_event("b", local_start=datetime(2025, 11, 11), notify=("hooks",)),
    ]
    planned = plan_countdowns(events, {"hooks": make_channel()}, DIGEST)
    assert len(planned) == 16
    assert len({p.id for p in planned}) == 16


def test_countdown_fires_at_the_channel_time_in_the_channel_zone() -> None:
    """A Shanghai channel gets its 09:00 digest at 01:00Z; a New York one at 09:00 EDT/EST."""
    event = make_event(notify=("mail", "desk"))
    channels = {
        "mail": make_channel(id="mail", timezone="Asia/Shanghai"),
        "desk": make_channel(id="desk", timezone=NY),
    }
    planned = {p.id: p.due_at for p in plan_countdowns([event], channels, DIGEST)}
    assert planned["cd:mail:20251103"] == datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
    assert planned["cd:desk:20251031"] == datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    assert planned["cd:desk:20251103"] == datetime(2025, 11, 3, 14, 0, tzinfo=UTC)


def test_countdown_digest_expires_one_day_after_it_is_due() -> None:
    """The next day's digest replaces it, so it is not worth sending after that."""
    event = make_event(notify=("hooks",))
    for planned in plan_countdowns([event], {"hooks": make_channel()}, DIGEST):
        assert planned.expires_at == planned.due_at + timedelta(days=1)
        assert planned.kind == "countdown"
        assert planned.event_id is None


def test_no_countdowns_without_a_countdown_setting() -> None:
    """``countdown`` absent from the defaults means no digests at all."""
    assert plan_countdowns([make_event(notify=("hooks",))], {"hooks": make_channel()}, None) == []


@pytest.mark.parametrize("status", ["postponed", "cancelled"])
def test_inactive_events_are_not_counted_down(status: str) -> None:
    """A cancelled or postponed event gives no digest."""
    event = make_event(status=status, notify=("hooks",))
    assert plan_countdowns([event], {"hooks": make_channel()}, DIGEST) == []


def test_events_opting_out_of_countdown_are_not_counted_down() -> None:
    """``countdown: false`` on an event keeps it out of every digest."""
    event = make_event(countdown=False, notify=("hooks",))
    assert plan_countdowns([event], {"hooks": make_channel()}, DIGEST) == []


def test_countdown_only_for_channels_the_event_notifies() -> None:
    """A channel that no event notifies gets no digest."""
    event = make_event(notify=("hooks",))
    channels = {"hooks": make_channel(), "other": make_channel(id="other")}
    assert {p.channel for p in plan_countdowns([event], channels, DIGEST)} == {"hooks"}


def test_countdown_ignores_channels_missing_from_the_calendar() -> None:
    """An event still naming a channel that is gone plans digests only for the channels that exist."""
    event = make_event(notify=("hooks", "gone"))
    assert {p.channel for p in plan_countdowns([event], {"hooks": make_channel()}, DIGEST)} == {"hooks"}


def test_countdown_listed_within_the_window_only() -> None:
    """The event is listed from ``within`` days before its date to the day itself, and not outside."""
    event = make_event()
    tz_name = "UTC"

    def listed(day: date) -> bool:
        at = datetime.combine(day, time(9, 0), tzinfo=UTC)
        return countdown_listed(event, day, at, DIGEST, tz_name)

    assert listed(date(2025, 10, 27))
    assert listed(date(2025, 11, 10))
    assert not listed(date(2025, 10, 26))
    assert not listed(date(2025, 11, 11))


def test_countdown_drops_a_timed_event_that_already_started() -> None:
    """A timed event earlier on the digest's day has begun by then, so that digest does not list it."""
    event = timed(local_start=datetime(2025, 11, 10, 8, 0))
    day = date(2025, 11, 10)
    at_nine = datetime(2025, 11, 10, 14, 0, tzinfo=UTC)
    assert not countdown_listed(event, day, at_nine, DIGEST, NY)
    at_seven = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
    assert countdown_listed(event, day, at_seven, DIGEST, NY)


def test_countdown_counts_timed_event_days_in_the_channel_zone() -> None:
    """The Seoul summit (11:00 KST 30 Oct) is on 29 Oct in New York, so its last New York digest is 29 Oct."""
    event = timed("trump-xi-summit", local_start=datetime(2025, 10, 30, 11, 0), timezone="Asia/Seoul", notify=("desk",))
    planned = plan_countdowns([event], {"desk": make_channel(id="desk", timezone=NY)}, DIGEST)
    assert planned[-1].id == "cd:desk:20251029"


def test_countdown_lists_an_all_day_event_elsewhere_until_it_ends_there() -> None:
    """Kuala Lumpur's 26 Oct runs from 12:00 EDT on the 25th to 12:00 EDT on the 26th: New York's digests count
    down to the 25th and still list it (today) on the 26th, then no more."""
    event = make_event(local_start=datetime(2025, 10, 26), timezone="Asia/Kuala_Lumpur", notify=("hooks",))
    spec = CountdownSpec(within_days=3, at=time(9, 0))
    planned = plan_countdowns([event], {"hooks": make_channel(timezone=NY)}, spec)
    assert digest_days([p.id for p in planned]) == ["20251022", "20251023", "20251024", "20251025", "20251026"]


def test_digest_events_lists_subscribed_events_within_the_window() -> None:
    """The digest of a channel lists the events that notify it and are within the window, nothing else."""
    near = make_event("near", notify=("hooks",))
    other_channel = make_event("elsewhere", notify=("mail",))
    far = make_event("far", local_start=datetime(2025, 12, 31), notify=("hooks",))
    due = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
    listed = digest_events([near, other_channel, far], make_channel(), DIGEST, due)
    assert [e.id for e in listed] == ["near"]


# --- change notices ------------------------------------------------------------------------------------------


def test_change_notice_ids_name_event_revision_and_channel() -> None:
    """``chg:<event>:<rev>:<channel>``: one notice per channel, due now."""
    before = make_event(notify=("hooks", "mail"))
    after = make_event(local_start=datetime(2025, 11, 1), notify=("hooks", "mail"))
    planned = plan_changes(before, after, revision=3, now=NOW)
    assert [p.id for p in planned] == ["chg:truce-expiry:3:hooks", "chg:truce-expiry:3:mail"]
    assert {(p.kind, p.due_at, p.event_id) for p in planned} == {("change", NOW, "truce-expiry")}


def test_change_notice_reports_before_and_after() -> None:
    """The payload says what kind of change it was and carries both snapshots."""
    before = make_event(notify=("hooks",))
    after = make_event(local_start=datetime(2025, 11, 1), notify=("hooks",))
    (planned,) = plan_changes(before, after, revision=2, now=NOW)
    assert planned.payload is not None
    assert planned.payload["type"] == "changed"
    assert planned.payload["before"]["local_start"] == "2025-11-10T00:00:00"
    assert planned.payload["after"]["local_start"] == "2025-11-01T00:00:00"


@pytest.mark.parametrize(
    "change",
    [{"status": "cancelled"}, {"title": "Truce extended"}, {"timezone": "Asia/Shanghai"}],
)
def test_status_title_and_zone_changes_are_announced(change: dict[str, Any]) -> None:
    """Status, title and zone changes each give a change notice."""
    before = make_event(notify=("hooks",))
    after = make_event(notify=("hooks",), **change)
    assert len(plan_changes(before, after, revision=2, now=NOW)) == 1


def test_details_that_do_not_affect_timing_are_not_announced() -> None:
    """Editing notes or tags changes the fingerprint but sends no change notice."""
    before = make_event(notify=("hooks",), notes="old")
    after = make_event(notify=("hooks",), notes="new", tags=("trade", "deadline"))
    assert event_fingerprint(before) != event_fingerprint(after)
    assert plan_changes(before, after, revision=2, now=NOW) == []


def test_moving_to_the_second_run_of_the_same_wall_clock_is_announced() -> None:
    """01:30 EDT → 01:30 EST is a move of one hour, though the wall clock reads the same."""
    first = timed(local_start=datetime(2025, 11, 2, 1, 30), notify=("hooks",))
    second = timed(local_start=datetime(2025, 11, 2, 1, 30, fold=1), notify=("hooks",))
    [notice] = plan_changes(first, second, revision=2, now=NOW)
    assert notice.payload is not None
    assert (notice.payload["before"]["starts_at"], notice.payload["after"]["starts_at"]) == (
        "2025-11-02T05:30:00Z",
        "2025-11-02T06:30:00Z",
    )


def test_added_and_removed_events_are_announced() -> None:
    """An event appearing is ``added``; one disappearing is ``removed``."""
    event = make_event(notify=("hooks",))
    (added,) = plan_changes(None, event, revision=1, now=NOW)
    (removed,) = plan_changes(event, None, revision=2, now=NOW)
    assert added.payload is not None
    assert removed.payload is not None
    assert (added.payload["type"], added.payload["before"]) == ("added", None)
    assert (removed.payload["type"], removed.payload["after"]) == ("removed", None)


def test_a_rename_is_one_notice_carrying_both_ids() -> None:
    """An event whose id alone changed gets one ``renamed`` notice under its new id, to old and new channels."""
    before = make_event("truce-end", notify=("hooks",))
    after = make_event("truce-expiry", notify=("hooks", "mail"))
    planned = plan_changes(before, after, revision=1, now=NOW, renamed=True)
    assert [p.id for p in planned] == ["chg:truce-expiry:1:hooks", "chg:truce-expiry:1:mail"]
    assert planned[0].payload is not None
    assert (planned[0].payload["type"], planned[0].payload["before"]["id"]) == ("renamed", "truce-end")


def test_renames_pair_an_appearing_and_a_gone_event_of_the_same_title_and_start() -> None:
    """A new id with the title and start of a gone one is a rename; a different start or title is not."""
    gone = [make_event("a", title="Vote"), make_event("b", title="Summit")]
    appeared = [make_event("a2", title="Vote"), make_event("b2", title="Summit", local_start=datetime(2025, 11, 12))]
    assert {new: old.id for new, old in renames(appeared, gone).items()} == {"a2": "a"}


def test_renames_never_guess_between_look_alikes() -> None:
    """Two gone events that look the same leave the appearing one unpaired (it is announced as added)."""
    gone = [make_event("a", title="Vote"), make_event("b", title="Vote")]
    assert renames([make_event("c", title="Vote")], gone) == {}


def test_change_notice_goes_to_old_and_new_channels() -> None:
    """A channel dropped by the edit still hears about it, once."""
    before = make_event(notify=("hooks", "mail"))
    after = make_event(local_start=datetime(2025, 11, 1), notify=("mail", "audit"))
    channels = [p.channel for p in plan_changes(before, after, revision=2, now=NOW)]
    assert channels == ["mail", "audit", "hooks"]


def test_fingerprint_is_deterministic() -> None:
    """Equal events have equal fingerprints, so an unchanged calendar is recognised."""
    assert event_fingerprint(make_event(reminders=offsets("1d"))) == event_fingerprint(
        make_event(reminders=offsets("1d"))
    )


def test_a_digest_lists_only_the_next_occurrence_of_a_recurring_event() -> None:
    """Three daily occurrences within the window are one line: the next one."""
    days = [
        make_event(f"standup@202511{d:02d}", local_start=datetime(2025, 11, d, 9), notify=("hooks",)) for d in (3, 1, 2)
    ]
    once = make_event("near", notify=("hooks",))
    due = datetime(2025, 10, 31, 9, 0, tzinfo=UTC)
    listed = digest_events([*days, once], make_channel(), DIGEST, due)
    assert [e.id for e in listed] == ["standup@20251101", "near"]
