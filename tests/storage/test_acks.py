"""Acknowledgements: rows, what they cancel and restore, one notice per channel, the send-time escalation check."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import make_calendar, make_channel, make_event, offsets

from alertd.domain import Calendar, CountdownSpec, Escalation, EventSpec
from alertd.errors import ConflictError, NotFoundError, UsageError
from alertd.storage.acks import (
    ACK,
    ACK_CANCEL,
    ack_event,
    acknowledge,
    acknowledgements,
    active_acks,
    drop_acknowledged,
    unack_event,
)
from alertd.storage.eventrows import EVENT, load_events
from alertd.storage.outbox import NOTIFICATION, claim
from alertd.storage.sync import sync_calendar
from alertd.timeexpr import parse_offset

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
CHANNELS = (make_channel(id="hooks"), make_channel(id="mail"), make_channel(id="pager"))
PAGER = Escalation(at=parse_offset("2d"), notify=("pager",))


def event(**changes: Any) -> EventSpec:
    values: dict[str, Any] = {"reminders": offsets("7d", "1d"), "notify": ("hooks", "mail"), "escalate": (PAGER,)}
    return make_event("truce-expiry", **(values | changes))


def calendar(*events: EventSpec, countdown: CountdownSpec | None = None) -> Calendar:
    return make_calendar(events or (event(),), channels=CHANNELS, countdown=countdown)


def load(engine: Engine, cal: Calendar, now: datetime = NOW) -> Calendar:
    with engine.begin() as conn:
        sync_calendar(conn, cal, now=now)
    return cal


def states(engine: Engine, kind: str | None = None) -> Counter[str]:
    query = sa.select(NOTIFICATION.c.state)
    if kind is not None:
        query = query.where(NOTIFICATION.c.kind == kind)
    with engine.begin() as conn:
        return Counter(conn.execute(query).scalars())


def notices(engine: Engine) -> list[Any]:
    with engine.begin() as conn:
        return list(conn.execute(sa.select(NOTIFICATION).where(NOTIFICATION.c.kind == "ack")))


def test_ack_cancels_pending_reminders_and_escalations_with_a_reason(engine: Engine) -> None:
    """Acknowledging stops the event's reminders and escalation steps; each says who acknowledged it."""
    cal = load(engine, calendar())
    assert states(engine, "reminder") == {"pending": 4}
    assert states(engine, "escalation") == {"pending": 1}

    record, new, report = ack_event(engine, cal, event_id="truce-expiry", by="ana", via="cli", now=NOW)

    assert new
    assert record.by == "ana"
    assert record.via == "cli"
    assert states(engine, "reminder") == {"cancelled": 4}
    assert states(engine, "escalation") == {"cancelled": 1}
    assert report.cancelled == 5
    with engine.begin() as conn:
        reasons = set(conn.execute(sa.select(NOTIFICATION.c.last_error).where(NOTIFICATION.c.kind == "reminder")))
    assert reasons == {(f"{ACK_CANCEL} by ana (cli)",)}


def test_ack_queues_one_notice_per_channel_due_now(engine: Engine) -> None:
    """Each of the event's channels gets one "acknowledged by" notice, due at once, naming who and the note."""
    cal = load(engine, calendar())

    ack_event(engine, cal, event_id="truce-expiry", by="ana", via="api", now=NOW, note="filed")

    found = notices(engine)
    assert sorted(n.channel for n in found) == ["hooks", "mail"]
    assert {n.due_at for n in found} == {NOW}
    assert found[0].payload == {
        "action": "acknowledged",
        "by": "ana",
        "via": "api",
        "note": "filed",
        "event_id": "truce-expiry",
    }


def test_a_second_ack_changes_nothing(engine: Engine) -> None:
    """Acknowledging an acknowledged event returns the first acknowledgement and queues no second notice."""
    cal = load(engine, calendar())
    ack_event(engine, cal, event_id="truce-expiry", by="ana", via="cli", now=NOW)

    record, new, _ = ack_event(engine, cal, event_id="truce-expiry", by="bo", via="api", now=NOW + timedelta(1))

    assert not new
    assert record.by == "ana"
    assert len(notices(engine)) == 2
    with engine.begin() as conn:
        assert len(acknowledgements(conn, "truce-expiry")) == 1


def test_concurrent_acks_record_one_row_and_one_notice_per_channel(engine: Engine) -> None:
    """Replicas acknowledging at the same moment: one acknowledgement, one notice per channel."""
    cal = load(engine, calendar())
    barrier = threading.Barrier(4)
    results: list[bool] = []
    errors: list[BaseException] = []

    def one(name: str) -> None:
        barrier.wait()
        try:
            results.append(ack_event(engine, cal, event_id="truce-expiry", by=name, via="api", now=NOW)[1])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(f"p{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert sorted(results) == [False, False, False, True]
    assert len(notices(engine)) == 2


def test_after_ack_keep_leaves_reminders_but_stops_escalation(engine: Engine) -> None:
    """With ``after_ack: keep`` reminders continue; escalation steps still stop (they are "unless acknowledged")."""
    cal = load(engine, calendar(event(after_ack="keep")))

    ack_event(engine, cal, event_id="truce-expiry", by="ana", via="cli", now=NOW)

    assert states(engine, "reminder") == {"pending": 4}
    assert states(engine, "escalation") == {"cancelled": 1}


def test_unack_restores_what_is_still_ahead(engine: Engine) -> None:
    """Withdrawing the acknowledgement brings back reminders still ahead; those whose time passed stay cancelled."""
    cal = load(engine, calendar())
    ack_event(engine, cal, event_id="truce-expiry", by="ana", via="cli", now=NOW)
    # 7d before 10 Nov (3 Nov 09:00 New York) has passed by 5 Nov; the 1d reminders have not.
    later = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)

    record, _ = unack_event(engine, cal, event_id="truce-expiry", by="bo", now=later)

    assert record.revoked_at == later
    assert record.revoked_by == "bo"
    assert states(engine, "reminder") == {"pending": 2, "cancelled": 2}
    assert states(engine, "escalation") == {"pending": 1}
    with engine.begin() as conn:
        assert active_acks(conn) == {}
        assert not load_events(conn)["truce-expiry"].acknowledged
    revoked = [n for n in notices(engine) if n.payload["action"] == "revoked"]
    assert sorted(n.channel for n in revoked) == ["hooks", "mail"]


def test_unack_of_an_unacknowledged_event_is_refused(engine: Engine) -> None:
    """Nothing to undo: a clear conflict, not a silent success."""
    cal = load(engine, calendar())
    with pytest.raises(ConflictError, match="not acknowledged"):
        unack_event(engine, cal, event_id="truce-expiry", by="bo", now=NOW)


def test_ack_of_an_unknown_event_is_refused(engine: Engine) -> None:
    cal = load(engine, calendar())
    with pytest.raises(NotFoundError, match="no event 'nope'"):
        ack_event(engine, cal, event_id="nope", by="ana", via="cli", now=NOW)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_ack_refuses_an_empty_or_huge_name(engine: Engine, name: str) -> None:
    cal = load(engine, calendar())
    with pytest.raises(UsageError):
        ack_event(engine, cal, event_id="truce-expiry", by=name, via="cli", now=NOW)
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ACK)).scalar() == 0


def test_a_calendar_edit_does_not_revive_the_reminders_of_an_acked_event(engine: Engine) -> None:
    """Re-planning an acknowledged event (its title changed in the file) plans no reminders for it."""
    cal = load(engine, calendar())
    ack_event(engine, cal, event_id="truce-expiry", by="ana", via="cli", now=NOW)

    load(engine, calendar(event(title="Truce ends", reminders=offsets("7d", "2d"))), NOW + timedelta(hours=1))

    assert "pending" not in states(engine, "reminder")


def test_an_acked_event_leaves_the_countdown_digests(engine: Engine) -> None:
    """Countdown lines stop: with only the acknowledged event in the window, no digest stays queued."""
    spec = CountdownSpec(within_days=30, at=time(9, 0))
    cal = load(engine, calendar(countdown=spec))
    assert states(engine, "countdown")["pending"] > 0

    ack_event(engine, cal, event_id="truce-expiry", by="ana", via="cli", now=NOW)

    assert "pending" not in states(engine, "countdown")
    unack_event(engine, cal, event_id="truce-expiry", by="ana", now=NOW + timedelta(minutes=1))
    assert states(engine, "countdown")["pending"] > 0


def test_claim_cancels_an_escalation_whose_event_was_acked(engine: Engine) -> None:
    """The send-time check: a claimed escalation step of an acknowledged event is cancelled, not handed out."""
    cal = load(engine, calendar())
    due = datetime(2025, 11, 8, 14, 0, tzinfo=UTC)  # 2d before 10 Nov 09:00 New York
    with engine.begin() as conn:
        # As if the ack landed between planning and the claim, without its own cancel (a racing replica).
        acknowledge(conn, cal, event_id="truce-expiry", by="ana", via="cli", now=due - timedelta(seconds=1))
        conn.execute(
            NOTIFICATION.update().where(NOTIFICATION.c.kind == "escalation").values(state="pending", last_error=None)
        )
    with engine.begin() as conn:
        claimed = claim(conn, now=due, worker="w", lease_until=due + timedelta(minutes=2), limit=50)
        assert any(c.kind == "escalation" for c in claimed)
        kept = drop_acknowledged(conn, claimed, now=due)
    assert [c for c in kept if c.kind == "escalation"] == []
    assert states(engine, "escalation") == {"cancelled": 1}


def test_events_read_back_carry_the_acknowledgement(engine: Engine) -> None:
    cal = load(engine, calendar())
    ack_event(engine, cal, event_id="truce-expiry", by="ana", via="cli", now=NOW)
    with engine.begin() as conn:
        stored = load_events(conn)["truce-expiry"]
        assert stored.acknowledged
        assert stored.quiet
        assert stored.escalate == (PAGER,)
        assert conn.execute(sa.select(EVENT.c.acknowledged)).scalar() is True
    assert replace(stored, acknowledged=False).quiet is False
