"""Escalation steps planned as notifications: their instants, repeats that stop at the start, stable ids."""

from __future__ import annotations

from datetime import UTC, datetime, time

from support.factories import make_event

from alertd.domain import Escalation
from alertd.planning.escalation import MAX_REPEATS, escalation_instants, plan_escalations
from alertd.timeexpr import parse_offset

START = datetime(2025, 11, 10, 5, 0, tzinfo=UTC)  # 00:00 New York


def step(at: str, *notify: str, repeat: str | None = None) -> Escalation:
    return Escalation(at=parse_offset(at), notify=notify or ("pager",), repeat=parse_offset(repeat) if repeat else None)


def test_a_step_fires_its_offset_before_the_start() -> None:
    event = make_event("filing", local_start=datetime(2025, 11, 10), all_day=False, starts_at=START)
    assert escalation_instants(event, step("2h")) == [datetime(2025, 11, 10, 3, 0, tzinfo=UTC)]


def test_days_are_nominal_across_the_dst_change() -> None:
    """2d before Mon 10 Nov 00:00 New York is Sat 8 Nov 00:00 local (05:00Z), not 48 hours (05:00Z either way
    here), and 9d crosses 2 Nov: 1 Nov 00:00 EDT = 04:00Z."""
    event = make_event("filing", local_start=datetime(2025, 11, 10), all_day=False, starts_at=START)
    assert escalation_instants(event, step("9d")) == [datetime(2025, 11, 1, 4, 0, tzinfo=UTC)]


def test_a_repeating_step_stops_before_the_start() -> None:
    event = make_event("filing", local_start=datetime(2025, 11, 10), all_day=False, starts_at=START)
    found = escalation_instants(event, step("2h", repeat="30m"))
    assert [f.strftime("%H:%M") for f in found] == ["03:00", "03:30", "04:00", "04:30"]


def test_a_step_after_the_start_repeats_a_bounded_number_of_times() -> None:
    event = make_event("filing", local_start=datetime(2025, 11, 10), all_day=False, starts_at=START)
    assert len(escalation_instants(event, step("+1h", repeat="1m"))) == MAX_REPEATS + 1


def test_an_all_day_event_counts_from_all_day_at() -> None:
    event = make_event("filing", all_day_at=time(9, 0))  # 10 Nov, all day, New York
    assert escalation_instants(event, step("1d")) == [datetime(2025, 11, 9, 14, 0, tzinfo=UTC)]


def test_plan_gives_one_row_per_channel_and_instant_with_stable_ids() -> None:
    event = make_event(
        "filing",
        local_start=datetime(2025, 11, 10),
        all_day=False,
        starts_at=START,
        escalate=(step("1h", "pager", "cto", repeat="30m"),),
    )
    planned = list(plan_escalations(event))
    assert [p.id for p in planned] == [
        "esc:filing:0:pager:20251110T040000Z",
        "esc:filing:0:cto:20251110T040000Z",
        "esc:filing:0:pager:20251110T043000Z",
        "esc:filing:0:cto:20251110T043000Z",
    ]
    assert {p.kind for p in planned} == {"escalation"}
    assert planned[2].payload == {"step": 0, "repeat": 1}


def test_a_cancelled_event_plans_no_escalation() -> None:
    event = make_event("filing", status="cancelled", escalate=(step("1d"),))
    assert list(plan_escalations(event)) == []


def test_an_acknowledged_event_plans_no_escalation() -> None:
    """A re-plan of an acknowledged event (a file edit, a feed refresh) queues no step the claim would only drop."""
    event = make_event("filing", acknowledged=True, escalate=(step("1d"),))
    assert list(plan_escalations(event)) == []
