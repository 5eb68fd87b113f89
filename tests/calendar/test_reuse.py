from __future__ import annotations

import textwrap

import pytest

from alertd.calendar.load import parse_calendar
from alertd.calendar.reuse import EventReuse
from alertd.domain import Calendar, EventSpec
from alertd.errors import CalendarError
from alertd.planning.fingerprint import event_fingerprints

HEAD = """\
version: 1
timezone: Europe/Berlin
channels:
  desk: {type: console}
  ops: {type: console}
defaults:
  reminders: [1d, 0m]
  notify: [desk]
"""

EVENTS = """\
events:
  - {id: alpha, title: Alpha, at: "2030-03-01T09:00"}
  - {id: beta, title: Beta, at: 2030-03-02}
  - {id: gamma, title: Gamma, at: "2030-03-03T10:00", tags: [trade], notify: [ops]}
  - id: monthly
    title: Monthly
    at: "2030-03-04T09:00"
    repeat: FREQ=MONTHLY;COUNT=3
"""


def parse(text: str, reuse: EventReuse | None = None, environ: dict[str, str] | None = None) -> Calendar:
    calendar, _ = parse_calendar(textwrap.dedent(text), name="calendar.yaml", environ=environ or {}, reuse=reuse)
    return calendar


def by_id(calendar: Calendar) -> dict[str, EventSpec]:
    return {e.id: e for e in calendar.events}


def digests(calendar: Calendar) -> list[str]:
    return event_fingerprints(calendar.events)


def test_reload_with_one_event_edited_reuses_every_other_event_object() -> None:
    reuse = EventReuse()
    first = parse(HEAD + EVENTS, reuse)
    digests(first)  # the digests a sync computes stay with the objects
    second = parse(HEAD + EVENTS.replace("title: Beta", "title: Beta moved", 1), reuse)
    before, after = by_id(first), by_id(second)
    assert after["alpha"] is before["alpha"]
    assert after["gamma"] is before["gamma"]
    assert after["beta"] is not before["beta"]
    assert reuse.reused == 2
    assert digests(second) == digests(parse(HEAD + EVENTS.replace("title: Beta", "title: Beta moved", 1)))


def test_reused_events_keep_their_order_and_the_series_is_rebuilt() -> None:
    reuse = EventReuse()
    first = parse(HEAD + EVENTS, reuse)
    second = parse(HEAD + EVENTS, reuse)
    assert [e.id for e in second.events] == [e.id for e in first.events]
    assert second.series[0] is not first.series[0]
    assert second.series == first.series


@pytest.mark.parametrize(
    "edit",
    [
        ("reminders: [1d, 0m]", "reminders: [2d, 0m]"),
        ("notify: [desk]", "notify: [ops]"),
        ("timezone: Europe/Berlin", "timezone: Asia/Tokyo"),
        ("  ops: {type: console}\n", "  ops: {type: console}\n  pager: {type: console}\n"),
        ("defaults:\n", "routes:\n  - {match: {tags: [trade]}, notify: [desk]}\ndefaults:\n"),
        ("defaults:\n", "defaults:\n  all_day_at: '08:00'\n"),
        ("defaults:\n", "defaults:\n  countdown: false\n"),
        ("defaults:\n", "defaults:\n  after_ack: keep\n"),
        ("defaults:\n", "workdays: {country: DE}\ndefaults:\n"),
    ],
    ids=["reminders", "notify", "timezone", "channels", "routes", "all_day_at", "countdown", "after_ack", "workdays"],
)
def test_a_change_of_what_the_calendar_gives_its_events_rebuilds_them(edit: tuple[str, str]) -> None:
    reuse = EventReuse()
    first = parse(HEAD + EVENTS, reuse)
    digests(first)
    changed_head = HEAD.replace(*edit)
    assert changed_head != HEAD
    second = parse(changed_head + EVENTS, reuse)
    assert reuse.reused == 0
    assert not set(map(id, second.events)) & set(map(id, first.events))
    assert second.events == parse(changed_head + EVENTS).events
    assert digests(second) == digests(parse(changed_head + EVENTS))


def test_a_changed_variable_rebuilds_the_event_that_uses_it() -> None:
    text = HEAD + EVENTS.replace("title: Alpha", "title: '${WHO} call'", 1)
    reuse = EventReuse()
    first = parse(text, reuse, {"WHO": "Ann"})
    second = parse(text, reuse, {"WHO": "Bob"})
    assert by_id(second)["alpha"] is not by_id(first)["alpha"]
    assert second.events[0].title == "Bob call"
    assert by_id(second)["beta"] is by_id(first)["beta"]


def test_a_value_of_another_type_is_not_the_same_entry() -> None:
    # countdown: 1 is refused where countdown: true is not; they compare (and hash) alike in Python.
    reuse = EventReuse()
    parse(HEAD + EVENTS.replace("2030-03-02}", "2030-03-02, countdown: true}", 1), reuse)
    assert reuse.reused == 0
    with pytest.raises(CalendarError):
        parse(HEAD + EVENTS.replace("2030-03-02}", "2030-03-02, countdown: 1}", 1), reuse)


def test_an_entry_with_a_warning_is_checked_again_on_each_load() -> None:
    # 02:30 on that night happens twice in Berlin: a warning, which must be given again with its (new) line.
    ambiguous = '  - {id: fold, title: Fold, at: "2030-10-27T02:30"}\n'
    reuse = EventReuse()
    _, warned = parse_calendar(HEAD + EVENTS + ambiguous, name="c.yaml", environ={}, reuse=reuse)
    _, again = parse_calendar(HEAD + "\n\n" + EVENTS + ambiguous, name="c.yaml", environ={}, reuse=reuse)
    assert [w.line + 2 for w in warned] == [w.line for w in again]
    assert len(again) == 1


def test_a_rejected_load_leaves_the_last_good_events_for_the_next() -> None:
    reuse = EventReuse()
    first = parse(HEAD + EVENTS, reuse)
    with pytest.raises(CalendarError):
        parse(HEAD + EVENTS + "  - {id: broken}\n", reuse)
    third = parse(HEAD + EVENTS, reuse)
    assert by_id(third)["alpha"] is by_id(first)["alpha"]


def test_an_entry_with_an_unset_variable_is_checked_again_on_each_load() -> None:
    """Without secrets an unset ${VAR} stays as written and silences errors under its key, which the entry's text
    alone does not tell (an escaped $${VAR} reads the same): such an entry is never handed on."""
    text = HEAD + EVENTS.replace("title: Alpha", "title: '${UNSET} call'", 1)
    reuse = EventReuse()
    for _ in range(2):
        calendar, _ = parse_calendar(text, name="calendar.yaml", environ={}, secrets=False, reuse=reuse)
        assert by_id(calendar)["alpha"].title == "${UNSET} call"
    assert reuse.reused == 2  # beta and gamma, not alpha
