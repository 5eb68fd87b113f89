from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import from_file, make_calendar, make_channel, make_event, offsets

from alertd.domain import Calendar, CountdownSpec, EventSpec, Planned
from alertd.planning import plan_reminders
from alertd.storage.eventrows import EVENT, event_values, load_events
from alertd.storage.models import Meta
from alertd.storage.outbox import NOTIFICATION, Outcome, claim, enqueue, record
from alertd.storage.sync import SyncReport, sync_calendar

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
CHANNELS = (make_channel(id="hooks"), make_channel(id="mail", timezone="Asia/Shanghai"))
DIGEST = CountdownSpec(within_days=14, at=time(9, 0))
META = Meta.__table__  # type: ignore[attr-defined]


def event(id: str = "truce-expiry", **changes: Any) -> EventSpec:
    values: dict[str, Any] = {"reminders": offsets("7d", "1d"), "notify": ("hooks", "mail")} | changes
    return make_event(id, **values)


def calendar(*events: EventSpec, countdown: CountdownSpec | None = None, channels: Any = CHANNELS) -> Calendar:
    return make_calendar(events, channels=channels, countdown=countdown)


def sync(engine: Engine, cal: Calendar, now: datetime = NOW) -> SyncReport:
    with engine.begin() as conn:
        return sync_calendar(conn, cal, now=now)


def rows(engine: Engine, **where: str) -> list[Any]:
    query = sa.select(NOTIFICATION).order_by(NOTIFICATION.c.id)
    for column, value in where.items():
        query = query.where(NOTIFICATION.c[column] == value)
    with engine.begin() as conn:
        return list(conn.execute(query))


def states(engine: Engine, **where: str) -> Counter[tuple[str, str]]:
    """How many rows of each (kind, state)."""
    return Counter((r.kind, r.state) for r in rows(engine, **where))


def meta(engine: Engine, key: str) -> str | None:
    with engine.begin() as conn:
        value: str | None = conn.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()
        return value


# --- first load ----------------------------------------------------------------------------------------------


def test_first_sync_queues_reminders_for_every_channel(engine: Engine) -> None:
    """Two offsets × two channels give four pending reminders."""
    report = sync(engine, calendar(event()))
    assert report.added == ["truce-expiry"]
    assert report.queued == 4
    assert states(engine) == Counter({("reminder", "pending"): 4})


def test_first_sync_announces_nothing(engine: Engine) -> None:
    """Bootstrapping a calendar sends no ``added`` notices: every event would otherwise be announced."""
    sync(engine, calendar(event(), event("summit")))
    assert rows(engine, kind="change") == []


def test_first_sync_skips_reminders_already_past(engine: Engine) -> None:
    """A reminder whose moment passed before the calendar was loaded is not queued (SPEC §4)."""
    sync(engine, calendar(event()), now=datetime(2025, 11, 5, tzinfo=UTC))
    assert {r.offset for r in rows(engine)} == {"1d"}


def test_first_file_sync_announces_nothing_even_beside_database_events(engine: Engine) -> None:
    """Events already made through the CLI/API do not make the first file load look like an edit."""
    with engine.begin() as conn:
        conn.execute(EVENT.insert().values(**event_values(event("by-api", owner="db"), revision=1, now=NOW)))
    sync(engine, calendar(event()))
    assert rows(engine, kind="change") == []


def test_sync_report_reads_as_one_line(engine: Engine) -> None:
    """The report is what the daemon logs after a reload."""
    report = sync(engine, calendar(event()))
    assert str(report) == "1 added, 0 changed, 0 removed; 4 notifications queued, 0 cancelled"


def test_first_sync_stores_the_events(engine: Engine) -> None:
    """The event is stored as revision 1, owned by the file."""
    sync(engine, calendar(event()))
    with engine.begin() as conn:
        stored = conn.execute(sa.select(EVENT)).one()
    assert (stored.id, stored.revision, stored.owner, stored.removed) == ("truce-expiry", 1, "file", False)


# --- re-syncs ------------------------------------------------------------------------------------------------


def test_resyncing_an_unchanged_calendar_is_a_no_op(engine: Engine) -> None:
    """Loading the same calendar again queues, cancels and announces nothing."""
    cal = calendar(event(), countdown=DIGEST)
    sync(engine, cal)
    before = [tuple(r) for r in rows(engine)]
    report = sync(engine, cal, now=LATER)
    assert (report.queued, report.cancelled, report.added, report.changed, report.removed) == (0, 0, [], [], [])
    assert [tuple(r) for r in rows(engine)] == before


def test_an_added_event_is_announced_after_the_first_sync(engine: Engine) -> None:
    """A new event in a known calendar gets an ``added`` notice on each of its channels."""
    sync(engine, calendar(event()))
    report = sync(engine, calendar(event(), event("summit", local_start=datetime(2025, 10, 30))), now=LATER)
    assert report.added == ["summit"]
    notices = rows(engine, kind="change")
    assert [r.id for r in notices] == ["chg:summit:1:hooks", "chg:summit:1:mail"]
    assert {r.payload["type"] for r in notices} == {"added"}


def test_moving_an_event_replans_its_reminders(engine: Engine) -> None:
    """Old reminders are cancelled and new ones are pending at the new dates."""
    sync(engine, calendar(event()))
    old_ids = {r.id for r in rows(engine, kind="reminder")}
    report = sync(engine, calendar(event(local_start=datetime(2025, 11, 12))), now=LATER)
    assert report.changed == ["truce-expiry"]
    reminders = rows(engine, kind="reminder")
    assert {r.id for r in reminders if r.state == "cancelled"} == old_ids
    assert {r.due_at for r in reminders if r.state == "pending"} == {
        datetime(2025, 11, 5, 14, 0, tzinfo=UTC),
        datetime(2025, 11, 11, 14, 0, tzinfo=UTC),
    }


def test_moving_an_event_queues_one_change_notice_per_channel(engine: Engine) -> None:
    """Each channel hears once that the event moved, due at the moment of the change."""
    sync(engine, calendar(event()))
    sync(engine, calendar(event(local_start=datetime(2025, 11, 12))), now=LATER)
    notices = rows(engine, kind="change")
    assert [(r.id, r.state, r.due_at) for r in notices] == [
        ("chg:truce-expiry:2:hooks", "pending", LATER),
        ("chg:truce-expiry:2:mail", "pending", LATER),
    ]
    assert notices[0].payload["type"] == "changed"


def test_moving_an_event_twice_gives_each_move_its_own_notice(engine: Engine) -> None:
    """Every revision is a separate notice, so the second move is not mistaken for a duplicate."""
    sync(engine, calendar(event()))
    sync(engine, calendar(event(local_start=datetime(2025, 11, 12))), now=LATER)
    sync(engine, calendar(event(local_start=datetime(2025, 11, 14))), now=LATER + timedelta(hours=1))
    assert len(rows(engine, kind="change", channel="hooks")) == 2


def test_moving_an_event_keeps_sent_reminders_in_history(engine: Engine) -> None:
    """A reminder already delivered stays ``sent`` when the event later moves."""
    sync(engine, calendar(event()))
    due = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)
    with engine.begin() as conn:
        claimed = claim(conn, now=due, worker="w", lease_until=due + timedelta(minutes=5), limit=10)
        record(conn, [Outcome(id=c.id, state="sent", at=due) for c in claimed], worker="w")
    sync(engine, calendar(event(local_start=datetime(2025, 11, 12))), now=due + timedelta(hours=1))
    assert states(engine, kind="reminder", offset="7d")[("reminder", "sent")] == 2


def test_moving_an_event_into_the_near_future_skips_past_reminders(engine: Engine) -> None:
    """Reminders already due at the new date are not sent; the change notice still is (SPEC §4)."""
    sync(engine, calendar(event()))
    sync(engine, calendar(event(local_start=datetime(2025, 10, 23))), now=LATER)
    pending = rows(engine, state="pending")
    assert {(r.kind, r.offset) for r in pending} == {("reminder", "1d"), ("change", None)}


def test_cancelling_an_event_cancels_its_reminders_and_says_so(engine: Engine) -> None:
    """A status change to cancelled withdraws the reminders and sends a change notice."""
    sync(engine, calendar(event()))
    sync(engine, calendar(event(status="cancelled")), now=LATER)
    assert states(engine, kind="reminder") == Counter({("reminder", "cancelled"): 4})
    notices = rows(engine, kind="change")
    assert len(notices) == 2
    assert notices[0].payload["after"]["status"] == "cancelled"


def test_editing_only_notes_replans_nothing_and_announces_nothing(engine: Engine) -> None:
    """A detail that does not affect timing bumps the revision but sends no notice and keeps the reminders."""
    sync(engine, calendar(event()))
    report = sync(engine, calendar(event(notes="extended talks")), now=LATER)
    assert report.cancelled == 0
    assert rows(engine, kind="change") == []
    assert states(engine) == Counter({("reminder", "pending"): 4})


def test_moving_an_event_back_restores_its_original_reminders(engine: Engine) -> None:
    """Moving away and back re-uses the original ids: the same rows are pending again, none duplicated."""
    sync(engine, calendar(event()))
    original = {r.id for r in rows(engine, kind="reminder")}
    sync(engine, calendar(event(local_start=datetime(2025, 11, 12))), now=LATER)
    sync(engine, calendar(event()), now=LATER + timedelta(hours=1))
    pending = {r.id for r in rows(engine, kind="reminder", state="pending")}
    assert pending == original
    assert len(rows(engine, kind="reminder")) == 8


def test_dropping_a_channel_from_an_event_cancels_its_reminders_there(engine: Engine) -> None:
    """An event that stops notifying a channel leaves nothing pending for it on that channel."""
    sync(engine, calendar(event()))
    sync(engine, calendar(event(notify=("hooks",))), now=LATER)
    assert {r.state for r in rows(engine, kind="reminder", channel="mail")} == {"cancelled"}
    assert {r.state for r in rows(engine, kind="reminder", channel="hooks")} == {"pending"}


# --- removals ------------------------------------------------------------------------------------------------


def test_removing_an_event_cancels_its_pending_notifications(engine: Engine) -> None:
    """An event deleted from the file keeps no pending reminder."""
    sync(engine, calendar(event(), event("summit")))
    report = sync(engine, calendar(event("summit")), now=LATER)
    assert report.removed == ["truce-expiry"]
    assert states(engine, event_id="truce-expiry", kind="reminder") == Counter({("reminder", "cancelled"): 4})
    assert states(engine, event_id="summit", kind="reminder") == Counter({("reminder", "pending"): 4})


def test_removing_an_event_notifies_its_channels(engine: Engine) -> None:
    """Each channel of the removed event gets one ``removed`` change notice."""
    sync(engine, calendar(event(), event("summit")))
    sync(engine, calendar(event("summit")), now=LATER)
    notices = rows(engine, kind="change", state="pending")
    assert [(r.id, r.payload["type"]) for r in notices] == [
        ("chg:truce-expiry:2:hooks", "removed"),
        ("chg:truce-expiry:2:mail", "removed"),
    ]


def test_removed_event_is_kept_as_removed(engine: Engine) -> None:
    """The event row stays for history, marked removed, with a new revision."""
    sync(engine, calendar(event(), event("summit")))
    sync(engine, calendar(event("summit")), now=LATER)
    with engine.begin() as conn:
        stored = conn.execute(sa.select(EVENT).where(EVENT.c.id == "truce-expiry")).one()
    assert (stored.removed, stored.revision) == (True, 2)


def test_readding_a_removed_event_revives_its_reminders(engine: Engine) -> None:
    """An event put back in the file is announced as added and its reminders are pending again."""
    sync(engine, calendar(event(), event("summit")))
    sync(engine, calendar(event("summit")), now=LATER)
    report = sync(engine, calendar(event(), event("summit")), now=LATER + timedelta(hours=1))
    assert report.added == ["truce-expiry"]
    assert states(engine, event_id="truce-expiry", kind="reminder") == Counter({("reminder", "pending"): 4})
    assert rows(engine, id="chg:truce-expiry:3:hooks")[0].payload["type"] == "added"


def test_removing_a_channel_cancels_its_rows(engine: Engine) -> None:
    """Nothing is left pending for a channel that no longer exists."""
    sync(engine, calendar(event(), countdown=DIGEST))
    sync(
        engine,
        calendar(event(notify=("hooks",)), countdown=DIGEST, channels=[make_channel(id="hooks")]),
        now=LATER,
    )
    assert {r.state for r in rows(engine, channel="mail")} == {"cancelled"}
    assert {r.state for r in rows(engine, channel="hooks", kind="reminder")} == {"pending"}


def test_database_owned_events_are_left_to_the_database(engine: Engine) -> None:
    """An id owned by the CLI/API is skipped by the file, and not removed when the file lacks it."""
    owned = event("by-api", owner="db")
    with engine.begin() as conn:
        conn.execute(EVENT.insert().values(**event_values(owned, revision=1, now=NOW)))
    report = sync(engine, calendar(event(), event("by-api")))
    assert report.skipped == ["by-api"]
    report = sync(engine, calendar(event()), now=LATER)
    assert report.removed == []


# --- countdowns ----------------------------------------------------------------------------------------------


def test_countdowns_are_planned_and_fingerprinted(engine: Engine) -> None:
    """Digests are queued for each channel and the plan's fingerprint is remembered in meta."""
    sync(engine, calendar(event(), countdown=DIGEST))
    assert {r.channel for r in rows(engine, kind="countdown")} == {"hooks", "mail"}
    assert meta(engine, "countdown_fingerprint") is not None


def test_unchanged_countdown_inputs_keep_the_fingerprint(engine: Engine) -> None:
    """An identical calendar leaves the fingerprint (and the digests) as they were."""
    cal = calendar(event(), countdown=DIGEST)
    sync(engine, cal)
    first = meta(engine, "countdown_fingerprint")
    sync(engine, cal, now=LATER)
    assert meta(engine, "countdown_fingerprint") == first


def test_changing_the_digest_time_moves_queued_digests(engine: Engine) -> None:
    """A new ``countdown.at`` moves every queued digest to the new time and updates the fingerprint."""
    sync(engine, calendar(event(), countdown=DIGEST))
    first = meta(engine, "countdown_fingerprint")
    count = len(rows(engine, kind="countdown", channel="hooks"))
    sync(engine, calendar(event(), countdown=CountdownSpec(within_days=14, at=time(10, 0))), now=LATER)
    assert meta(engine, "countdown_fingerprint") != first
    digests = rows(engine, kind="countdown", channel="hooks", state="pending")
    assert len(digests) == count
    assert {(r.next_at.hour, r.due_at.hour) for r in digests} == {(10, 10)}
    assert {r.expires_at - r.due_at for r in digests} == {timedelta(days=1)}


def test_changing_the_digest_time_never_gives_a_day_two_digests(engine: Engine) -> None:
    """Today's digest, already sent at 09:00, is not sent again at 10:00 when the time changes."""
    sync(engine, calendar(event(), countdown=DIGEST))
    first_due = min(r.due_at for r in rows(engine, kind="countdown", channel="hooks"))
    with engine.begin() as conn:
        claimed = claim(conn, now=first_due, worker="w", lease_until=first_due + timedelta(minutes=5), limit=10)
        record(conn, [Outcome(id=c.id, state="sent", at=first_due) for c in claimed], worker="w")
    later_digest = CountdownSpec(within_days=14, at=time(10, 0))
    sync(engine, calendar(event(), countdown=later_digest), now=first_due + timedelta(minutes=1))
    day = first_due.date()
    todays = [r for r in rows(engine, kind="countdown", channel="hooks") if r.due_at.date() == day]
    assert [r.state for r in todays] == ["sent"]


def test_changing_a_channel_zone_moves_its_digests(engine: Engine) -> None:
    """Digests follow the channel's zone: moving a channel to Tokyo moves its 09:00 to 00:00Z."""
    sync(engine, calendar(event(), countdown=DIGEST))
    tokyo = (make_channel(id="hooks", timezone="Asia/Tokyo"), CHANNELS[1])
    sync(engine, calendar(event(), countdown=DIGEST, channels=tokyo), now=LATER)
    digests = rows(engine, kind="countdown", channel="hooks", state="pending")
    assert {(r.due_at.hour, r.due_at.minute) for r in digests} == {(0, 0)}


def test_turning_countdowns_off_cancels_queued_digests(engine: Engine) -> None:
    """Removing ``countdown`` from the defaults leaves no digest pending."""
    sync(engine, calendar(event(), countdown=DIGEST))
    sync(engine, calendar(event()), now=LATER)
    assert {r.state for r in rows(engine, kind="countdown")} == {"cancelled"}


def test_removing_the_last_event_cancels_its_digests(engine: Engine) -> None:
    """With nothing left to count down, no digest stays pending."""
    sync(engine, calendar(event(), event("summit"), countdown=DIGEST))
    sync(engine, calendar(event("summit", status="cancelled"), countdown=DIGEST), now=LATER)
    assert {r.state for r in rows(engine, kind="countdown")} == {"cancelled"}


# --- exact instants through the database ---------------------------------------------------------------------


def test_a_second_run_survives_the_database_round_trip(engine: Engine, tmp_path: Path) -> None:
    """An event written 01:30-05:00 is, read back from the database, still the second 01:30 and plans the same."""
    loaded = from_file(
        tmp_path,
        "version: 1\ntimezone: America/New_York\nchannels: {hooks: {type: console}}\nevents:\n"
        "  - {id: second, title: Second, at: '2025-11-02T01:30-05:00', reminders: [1d, 2h, 0m]}\n",
    )
    sync(engine, loaded)
    with engine.begin() as conn:
        stored = load_events(conn)["second"]
    assert (stored.starts_at, stored.local_start.fold) == (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), 1)
    assert list(plan_reminders(stored, ["hooks"])) == list(plan_reminders(loaded.events[0], ["hooks"]))
    assert {r.due_at for r in rows(engine, kind="reminder")} == {p.due_at for p in plan_reminders(stored, ["hooks"])}


def test_a_plan_made_by_an_older_alertd_is_redone_once_on_upgrade(engine: Engine) -> None:
    """An all-day event planned under the old rule (2h at 07:00 beside 0m at 09:00) loses the stale 07:00 row on
    the first sync after an upgrade, without a change notice; the next sync changes nothing."""
    cal = calendar(event(reminders=offsets("2h", "0m")))
    sync(engine, cal)
    stale = Planned(
        id="rem:truce-expiry:2h:hooks:20251110T120000Z",
        kind="reminder",
        channel="hooks",
        due_at=datetime(2025, 11, 10, 12, 0, tzinfo=UTC),
        event_id="truce-expiry",
        offset="2h",
    )
    with engine.begin() as conn:
        enqueue(conn, [stale], now=NOW)
        conn.execute(EVENT.update().values(fingerprint="planned-by-an-older-alertd"))
    report = sync(engine, cal, now=LATER)
    assert (report.changed, report.cancelled) == (["truce-expiry"], 1)
    assert {r.id: r.state for r in rows(engine, kind="reminder") if r.channel == "hooks"} == {
        stale.id: "cancelled",
        "rem:truce-expiry:0m:hooks:20251110T140000Z": "pending",
    }
    assert rows(engine, kind="change") == []
    assert str(sync(engine, cal, now=LATER)) == str(SyncReport())


# --- an event's id renamed in the file ------------------------------------------------------------------------


def test_renaming_an_events_id_is_one_rename_notice_not_added_and_removed(engine: Engine) -> None:
    """Same title and start under a new id: each channel gets one "renamed" notice naming both ids; the old id's
    reminders are cancelled as renamed and the new id's planned, and nothing says the event is gone."""
    sync(engine, calendar(event("truce-end")))
    report = sync(engine, calendar(event("truce-expiry")), now=LATER)
    assert (report.added, report.removed) == (["truce-expiry"], ["truce-end"])
    notices = rows(engine, kind="change")
    assert [(r.event_id, r.channel) for r in notices] == [("truce-expiry", "hooks"), ("truce-expiry", "mail")]
    change = notices[0].payload
    assert (change["type"], change["before"]["id"], change["after"]["id"]) == ("renamed", "truce-end", "truce-expiry")
    old = rows(engine, kind="reminder", event_id="truce-end")
    assert {(r.state, r.last_error) for r in old} == {("cancelled", "event renamed to 'truce-expiry'")}
    assert {r.state for r in rows(engine, kind="reminder", event_id="truce-expiry")} == {"pending"}


def test_an_id_change_that_also_moves_the_event_says_removed_before_added(engine: Engine) -> None:
    """Not the same title and time, so not a rename: the "removed" notice is due first, the "added" one a second
    later, so a reader sees one event go and then another come, never the reverse."""
    sync(engine, calendar(event("truce-end")))
    sync(engine, calendar(event("truce-expiry", local_start=datetime(2025, 11, 12))), now=LATER)
    due = {r.payload["type"]: r.due_at for r in rows(engine, kind="change", channel="hooks")}
    assert due == {"removed": LATER, "added": LATER + timedelta(seconds=1)}


# --- business days ------------------------------------------------------------------------------------------


BUSINESS_DAYS = """\
version: 1
timezone: America/New_York
workdays: {country: US, subdivision: NY}
defaults: {notify: [hooks], countdown: false}
channels:
  hooks: {type: webhook, url: "https://hooks.example.org/alertd"}
events:
  - id: filing
    title: Filing
    at: 2025-12-01T17:00
    reminders: [3bd, 0m]
"""


def test_business_day_reminders_are_queued_at_their_resolved_instants(engine: Engine, tmp_path: Path) -> None:
    """3bd before Monday 2025-12-01 17:00 skips Thanksgiving: Tuesday 2025-11-25 17:00 EST."""
    sync(engine, from_file(tmp_path, BUSINESS_DAYS))
    assert [(r.offset, r.due_at.replace(tzinfo=UTC)) for r in rows(engine, kind="reminder")] == [
        ("0m", datetime(2025, 12, 1, 22, 0, tzinfo=UTC)),
        ("3bd", datetime(2025, 11, 25, 22, 0, tzinfo=UTC)),
    ]


def test_a_stored_business_day_event_reads_back_resolved_and_unchanged(engine: Engine, tmp_path: Path) -> None:
    """The event row keeps ``3bd=6d``: read back, it plans the same reminders and needs no re-plan."""
    cal = from_file(tmp_path, BUSINESS_DAYS)
    sync(engine, cal)
    with engine.begin() as conn:
        stored = load_events(conn)["filing"]
    assert [o.stored for o in stored.reminders] == ["3bd=6d", "0m"]
    assert list(plan_reminders(stored, ["hooks"])) == list(plan_reminders(cal.events[0], ["hooks"]))
    assert sync(engine, cal).queued == 0


def test_a_new_closed_date_replans_a_business_day_reminder(engine: Engine, tmp_path: Path) -> None:
    """Closing Wednesday 2025-11-26 moves the 3bd reminder a day earlier; the old one is cancelled."""
    sync(engine, from_file(tmp_path, BUSINESS_DAYS))
    closed = BUSINESS_DAYS.replace("subdivision: NY}", "subdivision: NY, closed: [2025-11-26]}")
    sync(engine, from_file(tmp_path, closed))
    assert {(r.state, r.due_at.replace(tzinfo=UTC)) for r in rows(engine, offset="3bd")} == {
        ("cancelled", datetime(2025, 11, 25, 22, 0, tzinfo=UTC)),
        ("pending", datetime(2025, 11, 24, 22, 0, tzinfo=UTC)),
    }


# --- comparing a large calendar cheaply ----------------------------------------------------------------------


def stored_revisions(engine: Engine) -> dict[str, tuple[int, datetime]]:
    with engine.begin() as conn:
        return {r.id: (r.revision, r.updated_at) for r in conn.execute(sa.select(EVENT))}


def test_an_edit_rewrites_only_the_edited_events_row(engine: Engine) -> None:
    """Of 50 stored events, the one edited gets a new revision; the others' rows are not written at all."""
    events = [event(f"deadline-{i:02d}", title=f"Deadline {i}") for i in range(50)]
    sync(engine, calendar(*events))
    before = stored_revisions(engine)
    edited = [*events[:7], event("deadline-07", title="Deadline 7, moved", notes="new"), *events[8:]]
    report = sync(engine, calendar(*edited), now=LATER)
    after = stored_revisions(engine)
    assert report.changed == ["deadline-07"]
    assert {i for i in after if after[i] != before[i]} == {"deadline-07"}


def test_a_calendar_rebuilt_from_scratch_but_equal_changes_nothing(engine: Engine) -> None:
    """A reload hands over new objects with the same values: the stored fingerprints match them."""
    sync(engine, calendar(event(), event("summit", notes='Room 2\n"quoted" — ünïcode')))
    report = sync(engine, calendar(event(), event("summit", notes='Room 2\n"quoted" — ünïcode')), now=LATER)
    assert (report.added, report.changed, report.removed, report.queued, report.cancelled) == ([], [], [], 0, 0)


def test_a_removed_event_is_not_written_or_announced_again_by_later_syncs(engine: Engine) -> None:
    """Once removed, an event absent from the calendar is left alone: no new revision, no second notice."""
    sync(engine, calendar(event(), event("summit")))
    sync(engine, calendar(event("summit")), now=LATER)
    removal_notices = len(rows(engine, kind="change"))
    report = sync(engine, calendar(event("summit", title="Summit, renamed")), now=LATER + timedelta(hours=1))
    assert report.removed == []
    assert stored_revisions(engine)["truce-expiry"][0] == 2
    assert len(rows(engine, kind="change")) == removal_notices + 2  # the title change, on two channels


def test_editing_an_event_without_digests_leaves_the_countdown_fingerprint(engine: Engine) -> None:
    """Digests list only events with ``countdown`` on, so editing another event cannot change them."""
    listed, unlisted = event(), event("summit", countdown=False)
    sync(engine, calendar(listed, unlisted, countdown=DIGEST))
    first = meta(engine, "countdown_fingerprint")
    sync(engine, calendar(listed, event("summit", countdown=False, title="Summit moved"), countdown=DIGEST), now=LATER)
    assert meta(engine, "countdown_fingerprint") == first
    sync(engine, calendar(event(title="Truce expiry, renamed"), unlisted, countdown=DIGEST), now=LATER)
    assert meta(engine, "countdown_fingerprint") != first


def test_with_digests_off_an_edit_leaves_the_countdown_fingerprint(engine: Engine) -> None:
    """Without a countdown spec no event can bring a digest back: the sync does not read the events for it."""
    sync(engine, calendar(event(), event("summit")))
    first = meta(engine, "countdown_fingerprint")
    sync(engine, calendar(event(title="Truce expiry, renamed"), event("summit")), now=LATER)
    assert meta(engine, "countdown_fingerprint") == first
    assert rows(engine, kind="countdown") == []


def test_an_event_turning_digests_on_is_listed(engine: Engine) -> None:
    """Switching one event's ``countdown`` on changes which events the digests list, so they are re-planned."""
    sync(engine, calendar(event(countdown=False), countdown=DIGEST))
    assert rows(engine, kind="countdown") == []
    sync(engine, calendar(event(countdown=True), countdown=DIGEST), now=LATER)
    assert {r.channel for r in rows(engine, kind="countdown")} == {"hooks", "mail"}
