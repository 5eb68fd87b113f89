"""Events read back from their rows: by id (the dispatcher's path, through the driver) as whole as by the table."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy.engine import Engine
from support.factories import make_event

from alertd.domain import Escalation, EventSpec
from alertd.planning import event_fingerprint
from alertd.storage.eventrows import EVENT, event_values, load_events
from alertd.timeexpr import parse_offset

NOW = datetime(2025, 10, 1, tzinfo=UTC)


def _events() -> list[EventSpec]:
    return [
        make_event(),
        # The second 01:30 of a repeated hour: only the stored instant tells it from the first.
        make_event(
            "second",
            all_day=False,
            local_start=datetime(2025, 11, 2, 1, 30, fold=1),
            tags=(),
            source=None,
            notes="bring the file",
            reminders=(parse_offset("1d"), parse_offset("2h")),
            notify=("hooks", "desk"),
            all_day_at=time(8, 30),
            countdown=False,
            owner="db",
            after_ack="escalate",
            escalate=(Escalation(at=parse_offset("1h"), notify=("pager",), repeat=parse_offset("30m")),),
        ),
        make_event("seoul", all_day=False, local_start=datetime(2025, 10, 30, 11), timezone="Asia/Seoul"),
    ]


def test_events_read_by_id_are_the_events_written(engine: Engine) -> None:
    """Every field comes back (the fold of a repeated hour too), whether read by id or all together."""
    events = _events()
    with engine.begin() as conn:
        for event in events:
            conn.execute(EVENT.insert().values(event_values(event, revision=1, now=NOW)))
    with engine.connect() as conn:
        by_id = load_events(conn, [e.id for e in reversed(events)] + ["missing"])
        everything = load_events(conn)
    assert by_id == everything == {e.id: e for e in events}
    assert by_id["second"].local_start.fold == 1


def test_removed_events_are_read_by_id_only_when_asked(engine: Engine) -> None:
    """A removed event is left out unless ``include_removed`` (the dispatcher's change notices need it)."""
    event = make_event()
    with engine.begin() as conn:
        conn.execute(EVENT.insert().values({**event_values(event, revision=1, now=NOW), "removed": True}))
    with engine.connect() as conn:
        assert load_events(conn, [event.id]) == {}
        assert load_events(conn, [event.id], include_removed=True) == {event.id: event}


def test_an_event_read_back_has_no_kept_fingerprint_until_digested(engine: Engine) -> None:
    """Built without __init__, it still starts with every field __init__ leaves out at its default, so a digest
    is computed for it rather than read from a slot that was never set."""
    event = make_event()
    with engine.begin() as conn:
        conn.execute(EVENT.insert().values(event_values(event, revision=1, now=NOW)))
    with engine.connect() as conn:
        (read,) = load_events(conn, [event.id]).values()
    assert read.memo_fingerprint is None
    assert event_fingerprint(read) == event_fingerprint(make_event()) == read.memo_fingerprint
