from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from support.factories import make_calendar, make_channel, make_event, offsets

from alertd.domain import Calendar, CountdownSpec
from alertd.planning.previews import preview

START = datetime(2025, 11, 1, tzinfo=UTC)
END = datetime(2025, 11, 30, tzinfo=UTC)
CHANNELS = (make_channel(id="hooks"), make_channel(id="mail", timezone="Asia/Shanghai"))


def calendar(countdown: CountdownSpec | None = None, **event: Any) -> Calendar:
    values: dict[str, Any] = {"reminders": offsets("7d", "1d"), "notify": ("hooks", "mail")} | event
    return make_calendar([make_event(**values)], channels=CHANNELS, countdown=countdown)


def test_preview_lists_reminders_for_every_channel_in_due_order() -> None:
    """Two offsets on two channels give four items, earliest first."""
    items = preview(calendar(), start=START, end=END)
    assert [(i.planned.offset, i.planned.channel) for i in items] == [
        ("7d", "hooks"),
        ("7d", "mail"),
        ("1d", "hooks"),
        ("1d", "mail"),
    ]
    due = [i.planned.due_at for i in items]
    assert due == sorted(due)


def test_preview_keeps_only_the_window() -> None:
    """Notifications outside ``[start, end]`` are left out; the bounds are inclusive."""
    one_day = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
    items = preview(calendar(), start=one_day, end=one_day)
    assert {i.planned.offset for i in items} == {"1d"}
    assert preview(calendar(), start=one_day + timedelta(seconds=1), end=END) == []


def test_preview_shows_local_due_time_in_the_channel_zone() -> None:
    """The Shanghai channel sees its 14:00Z reminder at 22:00 local time."""
    items = preview(calendar(), start=START, end=END)
    mail = next(i for i in items if i.planned.channel == "mail")
    assert mail.local_due_at.isoformat() == "2025-11-03T22:00:00+08:00"


def test_preview_renders_the_message_as_it_would_be_sent() -> None:
    """Each item's text is the real message at its due instant."""
    items = preview(calendar(), start=START, end=END)
    assert items[0].message.title == "Trade truce expires — in 7 days"
    assert items[-1].message.title == "Trade truce expires — tomorrow"


def test_preview_json_has_the_fields_of_the_plan_command() -> None:
    """SPEC §6: id, kind, event_id, channel, due_at in UTC with Z, local_due_at with offset, offset, text."""
    item = preview(calendar(), start=START, end=END)[1]
    found = item.as_json()
    assert found["id"] == item.planned.id
    assert (found["kind"], found["event_id"], found["channel"], found["offset"]) == (
        "reminder",
        "truce-expiry",
        "mail",
        "7d",
    )
    assert found["due_at"] == "2025-11-03T14:00:00Z"
    assert found["local_due_at"] == "2025-11-03T22:00:00+08:00"
    assert found["text"] == item.message.text


def test_preview_includes_countdown_digests_listing_their_events() -> None:
    """With a countdown configured, each channel's daily digest appears with the event in its lines."""
    items = preview(calendar(CountdownSpec(within_days=2, at=time(9, 0))), start=START, end=END)
    digests = [i for i in items if i.planned.kind == "countdown" and i.planned.channel == "hooks"]
    assert [i.planned.id for i in digests] == ["cd:hooks:20251108", "cd:hooks:20251109", "cd:hooks:20251110"]
    assert [[line.event.id for line in i.message.lines] for i in digests] == [["truce-expiry"]] * 3
    assert digests[-1].message.text == "• Trade truce expires — today (Mon 10 Nov 2025)"


def test_preview_of_a_cancelled_event_is_empty() -> None:
    """A cancelled event would send nothing, so nothing is previewed."""
    assert (
        preview(calendar(CountdownSpec(within_days=2, at=time(9, 0)), status="cancelled"), start=START, end=END) == []
    )


def test_preview_does_not_depend_on_when_it_runs() -> None:
    """The same calendar and window always preview the same items (it reads no clock)."""
    first = [i.as_json() for i in preview(calendar(), start=START, end=END)]
    second = [i.as_json() for i in preview(calendar(), start=START, end=END)]
    assert first == second


def test_preview_marks_a_message_whose_template_overruns_as_not_sendable() -> None:
    """A template past its budget does not fail the plan: its item shows why the daemon would not send it."""
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    trap = replace(make_channel(id="hooks"), templates={"reminder": {"text": loop}})
    cal = make_calendar([make_event(reminders=offsets("1d"), notify=("hooks",))], channels=(trap,))
    [item] = preview(cal, start=START, end=END)
    assert item.message.text.startswith(
        "[not sendable: template for reminder messages on channel hooks: the template ran longer than 2s"
    )
    assert item.message.title == "Trade truce expires — tomorrow"


def test_preview_shows_escalation_steps_worded_as_such_unless_acknowledged() -> None:
    from alertd.domain import Escalation
    from alertd.timeexpr import parse_offset

    step = Escalation(at=parse_offset("2d"), notify=("hooks",))
    items = preview(calendar(reminders=(), escalate=(step,)), start=START, end=END)
    assert [(i.planned.kind, i.planned.channel) for i in items] == [("escalation", "hooks")]
    assert items[0].message.title.startswith("Not acknowledged:")
    assert preview(calendar(reminders=(), escalate=(step,), acknowledged=True), start=START, end=END) == []
