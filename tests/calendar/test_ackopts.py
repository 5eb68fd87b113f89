"""``after_ack`` and ``escalate`` in the calendar file: defaults, per-event overrides, and every mistake named."""

from __future__ import annotations

import pytest

from alertd.calendar.load import parse_calendar
from alertd.domain import Calendar
from alertd.errors import CalendarError
from alertd.timeexpr import parse_offset

HEAD = """\
version: 1
timezone: UTC
channels:
  desk: {type: console}
  pager: {type: console}
"""


def load(body: str) -> Calendar:
    return parse_calendar(HEAD + body, name="calendar.yaml", environ={})[0]


def errors(body: str) -> list[str]:
    with pytest.raises(CalendarError) as caught:
        load(body)
    return [f"{i.line}: {i.path}: {i.message}" for i in caught.value.issues if i.severity == "error"]


def test_defaults_apply_to_every_event_and_an_event_overrides_them() -> None:
    cal = load(
        """\
defaults:
  notify: [desk]
  after_ack: keep
  escalate: [{at: 2d, unless: acknowledged, notify: [pager]}]
events:
  - {id: a, title: A, at: 2025-11-10}
  - {id: b, title: B, at: 2025-11-10, after_ack: stop, escalate: [{at: 2h, notify: [pager], repeat: 30m}]}
  - {id: c, title: C, at: 2025-11-10, escalate: []}
"""
    )
    a, b, c = cal.events
    assert a.after_ack == "keep"
    assert [(s.at.text, s.notify, s.repeat) for s in a.escalate] == [("2d", ("pager",), None)]
    assert b.after_ack == "stop"
    assert [(s.at.text, s.repeat) for s in b.escalate] == [("2h", parse_offset("30m"))]
    assert c.escalate == ()


def test_without_the_keys_reminders_stop_on_ack_and_nothing_escalates() -> None:
    (event,) = load("events:\n  - {id: a, title: A, at: 2025-11-10}\n").events
    assert (event.after_ack, event.escalate) == ("stop", ())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("after_ack: later", "10: events[0].after_ack: unknown after_ack 'later'"),
        ("escalate: {at: 2d}", "10: events[0].escalate: must be a list of steps"),
        ("escalate: [{at: 2d}]", "10: events[0].escalate[0]: missing required key 'notify'"),
        ("escalate: [{at: 2d, notify: [pagr]}]", "10: events[0].escalate[0].notify[0]: unknown channel 'pagr'"),
        ("escalate: [{at: 2d, notify: []}]", "10: events[0].escalate[0].notify: name at least one channel"),
        ("escalate: [{at: 2x, notify: [pager]}]", "10: events[0].escalate[0].at:"),
        ("escalate: [{at: 2d, notify: [pager], unless: confirmed}]", "the only condition is 'acknowledged'"),
        ("escalate: [{at: 2d, notify: [pager], repeat: 10s}]", "bad interval '10s'"),
        ("escalate: [{at: 2d, notify: [pager], every: 1h}]", "unknown key 'every'"),
    ],
)
def test_each_mistake_is_named_with_its_line_and_key(body: str, expected: str) -> None:
    found = errors(f"events:\n  - id: a\n    title: A\n    at: 2025-11-10\n    {body}\n")
    assert any(expected in e for e in found), found


def test_too_many_steps_are_refused() -> None:
    steps = ", ".join(f"{{at: {i}h, notify: [pager]}}" for i in range(21))
    found = errors(f"events:\n  - {{id: a, title: A, at: 2025-11-10, escalate: [{steps}]}}\n")
    assert any("21 escalation steps; keep it to 20" in e for e in found)
