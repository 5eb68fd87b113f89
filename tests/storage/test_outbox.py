from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.domain import Kind, Planned
from alertd.storage.outbox import (
    ATTEMPT,
    NOTIFICATION,
    Outcome,
    cancel,
    cancel_one,
    claim,
    enqueue,
    next_due,
    reclaim,
    record,
    retry_dead,
    supersede_countdowns,
)

NOW = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def planned(
    id: str, due_at: datetime, *, channel: str = "hooks", kind: Kind = "reminder", event_id: str | None = "ev"
) -> Planned:
    return Planned(id=id, kind=kind, channel=channel, due_at=due_at, event_id=event_id, payload={"n": 1})


def put(engine: Engine, *items: Planned, now: datetime = NOW - timedelta(days=1)) -> int:
    """Enqueue ``items`` as a planner would, by default a day before they fall due."""
    with engine.begin() as conn:
        return enqueue(conn, items, now=now)


def rows(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        return {r.id: r for r in conn.execute(sa.select(NOTIFICATION))}


def take(
    engine: Engine, now: datetime = NOW, *, worker: str = "w1", limit: int = 10, skip: Sequence[str] = ()
) -> list[str]:
    with engine.begin() as conn:
        claimed = claim(conn, now=now, worker=worker, lease_until=now + LEASE, limit=limit, skip_channels=skip)
    return [c.id for c in claimed]


def finish(engine: Engine, *outcomes: Outcome, worker: str = "w1") -> int:
    with engine.begin() as conn:
        return record(conn, outcomes, worker=worker)


# --- enqueue -------------------------------------------------------------------------------------------------


def test_enqueue_inserts_pending_rows(engine: Engine) -> None:
    """A planned notification becomes a pending row due (and next tried) at its due instant."""
    assert put(engine, planned("a", NOW)) == 1
    row = rows(engine)["a"]
    assert (row.state, row.attempts, row.due_at, row.next_at) == ("pending", 0, NOW, NOW)
    assert row.payload == {"n": 1}


def test_enqueue_is_idempotent_on_the_id(engine: Engine) -> None:
    """Enqueuing the same id again inserts nothing and keeps the existing row."""
    put(engine, planned("a", NOW))
    assert put(engine, planned("a", NOW + timedelta(hours=1))) == 0
    assert list(rows(engine)) == ["a"]
    assert rows(engine)["a"].due_at == NOW


def test_enqueue_counts_only_new_rows(engine: Engine) -> None:
    """With a mix of known and new ids, only the new ones are counted."""
    put(engine, planned("a", NOW))
    assert put(engine, planned("a", NOW), planned("b", NOW)) == 1


def test_enqueue_skips_notifications_already_due(engine: Engine) -> None:
    """A reminder whose moment has passed when planned is not queued (SPEC §4)."""
    assert put(engine, planned("past", NOW - timedelta(minutes=1)), now=NOW) == 0
    assert rows(engine) == {}


def test_enqueue_keeps_change_notices_due_now(engine: Engine) -> None:
    """A change notice is due at the moment of the change and is always queued."""
    assert put(engine, planned("chg", NOW, kind="change"), now=NOW) == 1


def test_enqueue_does_not_disturb_rows_in_other_states(engine: Engine) -> None:
    """Re-enqueuing the id of a sent notification leaves it sent: nothing is sent twice."""
    put(engine, planned("a", NOW))
    take(engine)
    finish(engine, Outcome(id="a", state="sent", at=NOW))
    put(engine, planned("a", NOW))
    assert rows(engine)["a"].state == "sent"


def test_enqueue_revives_a_cancelled_id(engine: Engine) -> None:
    """An event moved away and back wants its original reminder again: the cancelled row becomes pending."""
    put(engine, planned("a", NOW))
    with engine.begin() as conn:
        cancel(conn, NOTIFICATION.c.id == "a", reason="moved", now=NOW - timedelta(days=1))
    put(engine, planned("a", NOW))
    row = rows(engine)["a"]
    assert (row.state, row.last_error) == ("pending", None)


# --- claim ---------------------------------------------------------------------------------------------------


def test_claim_takes_only_due_rows(engine: Engine) -> None:
    """Rows due later than ``now`` stay pending."""
    put(engine, planned("due", NOW), planned("later", NOW + timedelta(seconds=1)))
    assert take(engine) == ["due"]
    assert rows(engine)["later"].state == "pending"


def test_claim_marks_rows_sending_with_a_lease(engine: Engine) -> None:
    """A claimed row is ``sending``, held by the worker until the lease ends, with one more attempt counted."""
    put(engine, planned("a", NOW))
    take(engine, worker="w1")
    row = rows(engine)["a"]
    assert (row.state, row.locked_by, row.locked_until, row.attempts) == ("sending", "w1", NOW + LEASE, 1)


def test_claim_returns_what_the_dispatcher_needs(engine: Engine) -> None:
    """The claimed value carries kind, event, channel, due instant, attempts and payload."""
    put(engine, planned("a", NOW, channel="mail"))
    with engine.begin() as conn:
        (claimed,) = claim(conn, now=NOW, worker="w1", lease_until=NOW + LEASE, limit=1)
    assert (claimed.kind, claimed.event_id, claimed.channel, claimed.due_at) == ("reminder", "ev", "mail", NOW)
    assert (claimed.attempts, claimed.payload) == (1, {"n": 1})


def test_claim_respects_the_limit_oldest_first(engine: Engine) -> None:
    """At most ``limit`` rows are taken, the most overdue first."""
    put(engine, *(planned(f"n{i}", NOW - timedelta(minutes=i), kind="change") for i in range(5)), now=NOW)
    assert take(engine, limit=2) == ["n4", "n3"]
    assert sum(r.state == "pending" for r in rows(engine).values()) == 3


def test_claim_skips_channels_it_is_told_to(engine: Engine) -> None:
    """A throttled channel's rows are left for later while others are taken."""
    put(engine, planned("slow", NOW, channel="slack"), planned("fast", NOW, channel="hooks"))
    assert take(engine, skip=["slack"]) == ["fast"]
    assert rows(engine)["slow"].state == "pending"


def test_second_claim_does_not_return_leased_rows(engine: Engine) -> None:
    """Another worker cannot take a row while the first one holds it."""
    put(engine, planned("a", NOW))
    assert take(engine, worker="w1") == ["a"]
    assert take(engine, worker="w2") == []


def test_claim_returns_nothing_when_nothing_is_due(engine: Engine) -> None:
    """An empty or future-only outbox yields no work."""
    put(engine, planned("later", NOW + timedelta(hours=1)))
    assert take(engine) == []


# --- record --------------------------------------------------------------------------------------------------


def test_record_sent_releases_the_lease(engine: Engine) -> None:
    """A sent row keeps when it was sent and no longer holds a lease."""
    put(engine, planned("a", NOW))
    take(engine)
    sent_at = NOW + timedelta(seconds=2)
    assert finish(engine, Outcome(id="a", state="sent", at=sent_at, late=True)) == 1
    row = rows(engine)["a"]
    assert (row.state, row.sent_at, row.late, row.locked_by, row.locked_until) == ("sent", sent_at, True, None, None)
    assert row.last_error is None


def test_record_sent_to_some_recipients_keeps_the_refusal(engine: Engine) -> None:
    """A sent outcome with a note (recipients refused) keeps it as the row's last_error; the attempt keeps the
    whole answer."""
    put(engine, planned("a", NOW))
    take(engine)
    refusal = "refused: gone@example.org (550 5.1.1 No such user)"
    finish(engine, Outcome(id="a", state="sent", at=NOW, detail=f"accepted for 1 of 2; {refusal}", note=refusal))
    row = rows(engine)["a"]
    assert (row.state, row.last_error) == ("sent", refusal)


def test_record_writes_one_attempt_row_per_outcome(engine: Engine) -> None:
    """Each attempt is kept for ``alertd history`` with its outcome, worker and detail."""
    put(engine, planned("a", NOW))
    take(engine)
    finish(engine, Outcome(id="a", state="dead", at=NOW, detail="401 bad token", duration_ms=12.5))
    with engine.begin() as conn:
        attempt = conn.execute(sa.select(ATTEMPT)).one()
    assert (attempt.notification_id, attempt.outcome, attempt.detail, attempt.worker) == (
        "a",
        "dead",
        "401 bad token",
        "w1",
    )
    assert rows(engine)["a"].last_error == "401 bad token"


def test_record_ignores_rows_held_by_another_worker(engine: Engine) -> None:
    """A worker whose lease was taken over cannot overwrite the new holder's row."""
    put(engine, planned("a", NOW))
    take(engine, worker="w1")
    assert finish(engine, Outcome(id="a", state="sent", at=NOW), worker="w2") == 0
    assert (rows(engine)["a"].state, rows(engine)["a"].locked_by) == ("sending", "w1")


def test_record_ignores_rows_no_longer_sending(engine: Engine) -> None:
    """An outcome for a row reclaimed meanwhile does not mark it sent."""
    put(engine, planned("a", NOW))
    take(engine, worker="w1")
    with engine.begin() as conn:
        reclaim(conn, now=NOW, everything=True)
    assert finish(engine, Outcome(id="a", state="sent", at=NOW)) == 0
    assert rows(engine)["a"].state == "retrying"


def test_record_of_nothing_changes_nothing(engine: Engine) -> None:
    """An empty batch of outcomes is a no-op."""
    assert finish(engine) == 0


def test_unattempted_outcome_writes_no_attempt_row(engine: Engine) -> None:
    """A row given up without a send (``missed``) leaves no attempt in history."""
    put(engine, planned("a", NOW))
    take(engine)
    finish(engine, Outcome(id="a", state="missed", at=NOW, detail="overdue", attempted=False))
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ATTEMPT)).scalar_one() == 0
    assert rows(engine)["a"].state == "missed"


def test_retrying_row_comes_back_at_next_at(engine: Engine) -> None:
    """A retry is not claimable before its backoff ends, and is claimable from then on."""
    put(engine, planned("a", NOW))
    take(engine)
    retry_at = NOW + timedelta(seconds=30)
    finish(engine, Outcome(id="a", state="retrying", at=NOW, detail="503", next_at=retry_at))
    assert take(engine, NOW + timedelta(seconds=29)) == []
    assert take(engine, retry_at) == ["a"]
    assert rows(engine)["a"].attempts == 2


# --- reclaim -------------------------------------------------------------------------------------------------


def test_reclaim_returns_expired_leases_to_the_queue(engine: Engine) -> None:
    """A row whose worker died is retried once its lease has run out, with the same id."""
    put(engine, planned("a", NOW))
    take(engine)
    later = NOW + LEASE + timedelta(seconds=1)
    with engine.begin() as conn:
        assert reclaim(conn, now=later) == 1
    row = rows(engine)["a"]
    assert (row.state, row.next_at, row.locked_by, row.locked_until) == ("retrying", later, None, None)
    assert take(engine, later, worker="w2") == ["a"]


def test_reclaim_leaves_live_leases_alone(engine: Engine) -> None:
    """A lease that has not run out is still its worker's."""
    put(engine, planned("a", NOW))
    take(engine)
    with engine.begin() as conn:
        assert reclaim(conn, now=NOW + LEASE - timedelta(seconds=1)) == 0
    assert rows(engine)["a"].state == "sending"


def test_reclaim_everything_takes_back_live_leases(engine: Engine) -> None:
    """At start-up on a single-writer database, every row in flight is ours to resend."""
    put(engine, planned("a", NOW))
    take(engine)
    with engine.begin() as conn:
        assert reclaim(conn, now=NOW, everything=True) == 1


# --- next_due ------------------------------------------------------------------------------------------------


def test_next_due_is_the_earliest_active_instant(engine: Engine) -> None:
    """The daemon sleeps until the earliest pending or retrying row, as an aware UTC instant."""
    put(engine, planned("b", NOW + timedelta(hours=2)), planned("a", NOW + timedelta(hours=1)))
    with engine.begin() as conn:
        found = next_due(conn)
    assert found == NOW + timedelta(hours=1)
    assert found is not None
    assert found.tzinfo is not None


def test_next_due_ignores_rows_in_flight_or_finished(engine: Engine) -> None:
    """Only rows that still want an attempt count; none left means None."""
    put(engine, planned("a", NOW))
    take(engine)
    with engine.begin() as conn:
        assert next_due(conn) is None


# --- countdowns, cancel, retry_dead --------------------------------------------------------------------------


def digest(day: int, channel: str = "hooks") -> Planned:
    due = datetime(2025, 11, day, 14, 0, tzinfo=UTC)
    return planned(f"cd:{channel}:202511{day:02d}", due, channel=channel, kind="countdown", event_id=None)


def test_supersede_countdowns_keeps_only_the_newest_overdue_digest(engine: Engine) -> None:
    """After downtime, of several overdue digests for a channel only the newest is sent; older ones are missed."""
    put(engine, digest(5), digest(6), digest(7), digest(8), now=datetime(2025, 11, 1, tzinfo=UTC))
    with engine.begin() as conn:
        assert supersede_countdowns(conn, now=datetime(2025, 11, 7, 15, 0, tzinfo=UTC)) == 2
    states = {k: r.state for k, r in rows(engine).items()}
    assert states == {
        "cd:hooks:20251105": "missed",
        "cd:hooks:20251106": "missed",
        "cd:hooks:20251107": "pending",
        "cd:hooks:20251108": "pending",
    }


def test_supersede_countdowns_is_per_channel(engine: Engine) -> None:
    """One channel's newer digest does not supersede another channel's."""
    put(engine, digest(5, "hooks"), digest(6, "mail"), now=datetime(2025, 11, 1, tzinfo=UTC))
    with engine.begin() as conn:
        assert supersede_countdowns(conn, now=datetime(2025, 11, 7, tzinfo=UTC)) == 0


def test_supersede_countdowns_spares_digests_already_attempted(engine: Engine) -> None:
    """A digest that is being retried keeps its retries rather than silently becoming missed."""
    put(engine, digest(5), now=datetime(2025, 11, 1, tzinfo=UTC))
    take(engine, datetime(2025, 11, 5, 14, 0, tzinfo=UTC))
    finish(engine, Outcome(id="cd:hooks:20251105", state="retrying", at=NOW, next_at=NOW))
    put(engine, digest(6), now=datetime(2025, 11, 1, tzinfo=UTC))
    with engine.begin() as conn:
        assert supersede_countdowns(conn, now=datetime(2025, 11, 7, tzinfo=UTC)) == 0


def test_cancel_keeps_the_ids_it_is_told_to(engine: Engine) -> None:
    """Re-planning cancels the rows no longer wanted and leaves wanted ones pending."""
    put(engine, planned("old", NOW), planned("kept", NOW))
    with engine.begin() as conn:
        assert cancel(conn, NOTIFICATION.c.event_id == "ev", keep=["kept"], reason="moved", now=NOW) == {
            ("reminder", "hooks"): 1
        }
    found = rows(engine)
    assert (found["old"].state, found["old"].last_error, found["kept"].state) == ("cancelled", "moved", "pending")


def test_cancel_one_refuses_rows_already_sent(engine: Engine) -> None:
    """An operator can cancel a pending notification but not one already delivered."""
    put(engine, planned("a", NOW), planned("b", NOW + timedelta(hours=1)))
    take(engine)
    finish(engine, Outcome(id="a", state="sent", at=NOW))
    with engine.begin() as conn:
        assert cancel_one(conn, "a", now=NOW) is False
        assert cancel_one(conn, "b", now=NOW) is True


def test_an_operator_cancel_survives_a_later_replan(engine: Engine) -> None:
    """Re-planning the event (say, an edit of its notes) must not bring back a reminder a person cancelled."""
    put(engine, planned("a", NOW), planned("b", NOW))
    with engine.begin() as conn:
        assert cancel_one(conn, "a", now=NOW - timedelta(hours=2), reason="not needed")
        cancel(conn, NOTIFICATION.c.id == "b", reason="moved", now=NOW - timedelta(hours=2))
    put(engine, planned("a", NOW), planned("b", NOW), now=NOW - timedelta(hours=1))
    found = rows(engine)
    assert (found["a"].state, found["b"].state) == ("cancelled", "pending")
    assert found["a"].last_error == "cancelled by an operator: not needed"


def test_retry_dead_requeues_a_dead_row_keeping_its_attempts(engine: Engine) -> None:
    """A manual retry makes the row claimable now without refilling its retry budget."""
    put(engine, planned("a", NOW))
    take(engine)
    finish(engine, Outcome(id="a", state="dead", at=NOW, detail="410"))
    later = NOW + timedelta(minutes=1)
    with engine.begin() as conn:
        assert retry_dead(conn, "a", now=later) is True
    assert (rows(engine)["a"].state, rows(engine)["a"].attempts) == ("retrying", 1)
    assert take(engine, later) == ["a"]


def test_retry_dead_refuses_a_reminder_past_its_event(engine: Engine) -> None:
    """A reminder past its event's start would die unsent, so it is not retried."""
    with engine.begin() as conn:
        item = Planned(id="a", kind="reminder", channel="hooks", due_at=NOW, event_id="ev", expires_at=NOW)
        enqueue(conn, [item], now=NOW - timedelta(days=1))
    take(engine)
    finish(engine, Outcome(id="a", state="dead", at=NOW, detail="410"))
    with engine.begin() as conn:
        assert retry_dead(conn, "a", now=NOW + timedelta(minutes=1)) is False


def test_concurrent_claims_skip_rows_locked_by_an_open_transaction(engine: Engine) -> None:
    """Replicas on PostgreSQL take different rows at once instead of waiting on each other (SKIP LOCKED)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer; row-level SKIP LOCKED is a PostgreSQL behaviour")
    put(engine, planned("a", NOW - timedelta(minutes=1)), planned("b", NOW))
    with engine.connect() as first, engine.connect() as second:
        held = claim(first, now=NOW, worker="w1", lease_until=NOW + LEASE, limit=1)
        other = claim(second, now=NOW, worker="w2", lease_until=NOW + LEASE, limit=10)
        second.commit()
        first.commit()
    assert [c.id for c in held] == ["a"]
    assert [c.id for c in other] == ["b"]


def test_parallel_claimers_never_take_the_same_row(engine: Engine) -> None:
    """Workers claiming at once from one outbox share the rows out: every row is taken exactly once."""
    put(engine, *(planned(f"n{i:03d}", NOW - timedelta(seconds=i), kind="change") for i in range(120)), now=NOW)

    def drain(worker: str) -> list[str]:
        taken: list[str] = []
        while batch := take(engine, worker=worker, limit=7):
            taken += batch
        return taken

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(drain, ["w1", "w2", "w3", "w4"]))
    everything = [id for taken in results for id in taken]
    assert sorted(everything) == sorted(rows(engine))
    assert len(everything) == len(set(everything)) == 120
