from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, time

import pytest
from support.factories import make_event, offsets

from alertd.domain import Escalation, EventSpec, event_snapshot
from alertd.planning.fingerprint import PLAN_RULES, event_fingerprint, event_fingerprints
from alertd.timeexpr import parse_offset


def reference(event: EventSpec) -> str:
    """The definition the stored fingerprints were made with: SHA-256 of the sorted JSON of these fields."""
    fields = event_snapshot(event) | {
        "tags": list(event.tags),
        "source": event.source,
        "notes": event.notes,
        "reminders": [o.stored for o in event.reminders],
        "notify": list(event.notify),
        "all_day_at": event.all_day_at.strftime("%H:%M"),
        "countdown": event.countdown,
        "rules": PLAN_RULES,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


ODD = [
    make_event(),
    make_event("timed", all_day=False, local_start=datetime(2026, 3, 8, 2, 30), timezone="America/New_York"),
    make_event("fold", all_day=False, local_start=datetime(2025, 11, 2, 1, 30, fold=1), timezone="America/New_York"),
    make_event("bare", tags=(), source=None, notes=None, reminders=(), notify=()),
    make_event(
        "odd-text",
        title='Zoll "Frist" \\ fällig\n\t— 期限 😀',
        notes="line one\nline two \u2028 \x00",
        source='https://example.org/?a=1&b="2"',
        tags=("ünïcode", 'quo"te', ""),
        notify=("desk-slack", "ops\\hook"),
    ),
    make_event("biz", reminders=(parse_offset("3bd").resolved(5), *offsets("7d", "2h", "0m"))),
    make_event("late-at", all_day_at=time(18, 5), countdown=False, status="tentative"),
    make_event(
        "ancient",
        all_day=False,
        local_start=datetime(999, 1, 2, 3, 4),
        timezone="UTC",
        starts_at=datetime(999, 1, 2, 3, 4, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize("event", ODD, ids=[e.id for e in ODD])
def test_fingerprint_is_byte_for_byte_the_stored_definition(event: EventSpec) -> None:
    """Databases filled by earlier versions keep matching: no event is re-planned because the code got faster."""
    fresh = replace(event)  # a new object: nothing an earlier test computed is kept on it
    assert event_fingerprint(fresh) == reference(event)


def test_batch_gives_each_event_its_own_fingerprint_in_order() -> None:
    assert event_fingerprints([replace(e) for e in ODD]) == [reference(e) for e in ODD]


def test_an_event_keeps_its_fingerprint_once_computed() -> None:
    event = make_event("kept")
    assert event.memo_fingerprint is None
    found = event_fingerprints([event])
    assert event.memo_fingerprint == found[0] == reference(event)
    # A kept digest is what is answered, so it must be the one the event has: planted, it would be returned.
    object.__setattr__(event, "memo_fingerprint", "planted")
    assert event_fingerprints([event, make_event("other")])[0] == "planted"


def test_a_changed_copy_of_a_digested_event_is_digested_anew() -> None:
    """``replace`` makes a new object without the digest: no stale fingerprint survives a change."""
    base = make_event("copied")
    before = event_fingerprint(base)
    copies = (replace(base, title="Other"), replace(base, notify=("elsewhere",)), replace(base, after_ack="keep"))
    for changed in copies:
        assert changed.memo_fingerprint is None
        assert event_fingerprint(changed) != before
        assert event_fingerprint(changed) == event_fingerprint(replace(changed))
    digested = make_event("copied", title="Other")
    event_fingerprint(digested)
    assert digested == replace(base, title="Other")  # the kept digest takes no part in comparisons


def test_batch_tells_apart_events_whose_shared_lists_differ() -> None:
    """The per-batch encoding of shared tuples is keyed by identity: equal-looking events with other lists differ."""
    first = make_event("a", notify=("one",), reminders=offsets("1d"))
    second = replace(first, notify=("two",))
    third = replace(first, reminders=offsets("2d"))
    prints = event_fingerprints([first, second, third, first])
    assert len(set(prints[:3])) == 3
    assert prints[3] == prints[0]


def test_fingerprint_changes_with_each_planned_field() -> None:
    base = make_event()
    for changed in (
        replace(base, title="Other"),
        replace(base, notes="n"),
        replace(base, countdown=False),
        replace(base, all_day_at=time(9, 1)),
        replace(base, status="cancelled"),
        replace(base, timezone="Europe/Berlin"),
    ):
        assert event_fingerprint(changed) != event_fingerprint(base)


def test_acknowledgement_settings_change_the_fingerprint_only_when_set() -> None:
    """``after_ack: keep`` or escalation steps re-plan the event; the defaults leave the stored digest as it was."""
    plain = make_event("acked")
    keep = replace(plain, after_ack="keep")
    steps = replace(plain, escalate=(Escalation(at=parse_offset("2h"), notify=("pager",)),))
    assert event_fingerprint(plain) == reference(plain)
    assert len({event_fingerprint(plain), event_fingerprint(keep), event_fingerprint(steps)}) == 3
    assert event_fingerprints([plain, keep, plain]) == [event_fingerprint(e) for e in (plain, keep, plain)]
