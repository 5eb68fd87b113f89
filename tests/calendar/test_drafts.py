"""Database-owned event drafts carry the calendar file's acknowledgement keys, checked as the file's are."""

from __future__ import annotations

from typing import Any

import pytest
from support.factories import make_calendar, make_channel

from alertd.calendar import draft_from_mapping, resolve_draft
from alertd.domain import Calendar
from alertd.errors import CalendarError

BASE = {"id": "filing", "title": "Filing deadline", "start": "2026-03-31T17:00"}
STEP = {"at": "2d", "unless": "acknowledged", "notify": ["pager"]}


def calendar(*channels: str) -> Calendar:
    return make_calendar([], channels=[make_channel(id=c) for c in channels or ("hooks", "pager")])


def resolve(cal: Calendar | None = None, *, lenient: bool = False, **fields: Any) -> Any:
    return resolve_draft(draft_from_mapping(BASE | fields), cal or calendar(), lenient=lenient)[0]


def test_a_draft_sets_after_ack_and_escalation_steps_per_event() -> None:
    event = resolve(after_ack="keep", escalate=[STEP, {"at": "2h", "notify": ["hooks"], "repeat": "30m"}])
    assert event.after_ack == "keep"
    assert [(s.at.text, s.notify, s.repeat and s.repeat.text) for s in event.escalate] == [
        ("2d", ("pager",), None),
        ("2h", ("hooks",), "30m"),
    ]


def test_a_draft_without_them_takes_the_calendar_defaults() -> None:
    event = resolve()
    assert (event.after_ack, event.escalate) == ("stop", ())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"after_ack": "later"}, "unknown after_ack 'later'"),
        ({"escalate": [STEP | {"notify": ["nope"]}]}, "nope"),
        ({"escalate": [STEP | {"unless": "sent"}]}, "the only condition is 'acknowledged'"),
        ({"escalate": [STEP | {"repeat": "5s"}]}, "write a positive duration of 1m or more"),
        ({"escalate": [STEP | {"at": "soon"}]}, "escalate"),
    ],
)
def test_a_bad_key_is_refused_with_the_files_message(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        resolve(**fields)


@pytest.mark.parametrize(
    "fields",
    [{"escalate": [STEP] * 21}, {"escalate": [STEP | {"when": "now"}]}, {"escalate": "2d"}],
)
def test_too_many_steps_unknown_step_keys_or_a_wrong_shape_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(CalendarError, match="escalate"):
        draft_from_mapping(BASE | fields)


def test_on_a_reload_a_step_keeps_only_channels_the_calendar_still_declares() -> None:
    """A removed channel does not block the reload: the step keeps its other channels, an emptied step goes."""
    steps = [STEP | {"notify": ["pager", "hooks"]}, STEP | {"at": "1d"}]
    event = resolve(calendar("hooks"), lenient=True, escalate=steps, notify=["hooks"])
    assert [(s.at.text, s.notify) for s in event.escalate] == [("2d", ("hooks",))]
