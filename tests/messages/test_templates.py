from __future__ import annotations

import logging
import re
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.factories import make_channel, make_event

from alertd.calendar.load import load_calendar
from alertd.domain import KINDS, Calendar, ChannelSpec, Kind, event_snapshot
from alertd.errors import CalendarError, CalendarIssue
from alertd.messages.context import VARIABLES, sample_message, template_context
from alertd.messages.default import render_default
from alertd.messages.rendering import render

ROOT = Path(__file__).resolve().parents[2]
DUE = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)


def write(tmp_path: Path, channel_yaml: str) -> Path:
    """A calendar whose only channel ``desk`` is ``channel_yaml`` (indented under it)."""
    body = textwrap.indent(textwrap.dedent(channel_yaml), "    ")
    path = tmp_path / "calendar.yaml"
    path.write_text(f"version: 1\nchannels:\n  desk:\n{body}", encoding="utf-8")
    return path


def load(tmp_path: Path, channel_yaml: str) -> Calendar:
    calendar, _ = load_calendar(write(tmp_path, channel_yaml), environ={})
    return calendar


def issues(tmp_path: Path, channel_yaml: str) -> list[CalendarIssue]:
    with pytest.raises(CalendarError) as info:
        load_calendar(write(tmp_path, channel_yaml), environ={})
    return info.value.issues


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of ``path`` containing ``needle``."""
    return next(n for n, text in enumerate(path.read_text().splitlines(), start=1) if needle in text)


def templated(**templates: Any) -> ChannelSpec:
    return replace(make_channel(id="desk", timezone="Asia/Shanghai"), templates=templates)


# --- send time -----------------------------------------------------------------------------------------------


def test_a_template_replaces_the_default_title_and_text() -> None:
    """Both parts render from the documented variables at send time."""
    spec = templated(
        reminder={"title": "[{{ offset }}] {{ event.title }}", "text": "{{ countdown.text }} · {{ when }}"}
    )
    message = render(id="r", kind="reminder", channel=spec, due_at=DUE, now=DUE, event=make_event(), offset="1d")
    assert message.title == "[1d] Trade truce expires"
    assert message.text == (
        "tomorrow · Mon 10 Nov 2025 (all day, America/New_York)"
        " = Mon 10 Nov 2025 13:00 CST – Tue 11 Nov 2025 13:00 CST (Asia/Shanghai)"
    )


def test_a_template_may_set_only_one_part() -> None:
    """The part left out keeps its default wording."""
    spec = templated(reminder={"title": "ALERT: {{ title }}"})
    default = render_default(id="r", kind="reminder", channel=spec, due_at=DUE, now=DUE, event=make_event())
    message = render(id="r", kind="reminder", channel=spec, due_at=DUE, now=DUE, event=make_event())
    assert message.title == f"ALERT: {default.title}"
    assert message.text == default.text


def test_templates_see_the_channels_locale() -> None:
    """Countdown words and offsets inside a template are already localized."""
    spec = replace(
        templated(reminder={"title": "{{ event.title }}：{{ countdown.text }}（{{ offset_text }}）"}), locale="zh"
    )
    message = render(id="r", kind="reminder", channel=spec, due_at=DUE, now=DUE, event=make_event(), offset="1d")
    assert message.title == "Trade truce expires：明天（提前1天）"


def test_a_countdown_template_loops_over_lines() -> None:
    """Digest entries are available as ``lines``."""
    spec = templated(countdown={"text": "{% for l in lines %}{{ l.event.id }}={{ l.days }}\n{% endfor %}"})
    near, far = make_event("near"), make_event("far", local_start=datetime(2025, 11, 12))
    message = render(id="c", kind="countdown", channel=spec, due_at=DUE, now=DUE, digest=[far, near])
    assert message.text == "near=1\nfar=3"


def test_a_template_failing_at_send_time_falls_back_to_the_default(caplog: pytest.LogCaptureFixture) -> None:
    """``change.before`` is null for an added event: the default words go out and a warning is logged."""
    spec = templated(change={"title": "was {{ change.before.title }}"})
    added = {"type": "added", "before": None, "after": event_snapshot(make_event())}
    kwargs: dict[str, Any] = {"id": "chg:9", "kind": "change", "channel": spec, "due_at": DUE, "now": DUE}
    with caplog.at_level(logging.WARNING, logger="alertd.templates"):
        message = render(**kwargs, event=make_event(), payload=added)
    assert message == render_default(**kwargs, event=make_event(), payload=added)
    assert "chg:9" in caplog.text
    assert "desk" in caplog.text


# --- variables -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_context_has_exactly_the_documented_variables(kind: Kind) -> None:
    """What templates see and what VARIABLES (and the docs) promise are the same names."""
    message = sample_message(kind, make_channel())
    assert set(template_context(message)) == set(VARIABLES)


def test_every_variable_is_in_the_docs() -> None:
    """docs/messages.md lists each variable."""
    docs = (ROOT / "docs" / "messages.md").read_text(encoding="utf-8")
    assert [v for v in VARIABLES if f"`{v}`" not in docs] == []


# --- load time -----------------------------------------------------------------------------------------------


def test_valid_templates_load_onto_the_channel(tmp_path: Path) -> None:
    """Each kind's parts are kept as written."""
    calendar = load(tmp_path, 'type: console\ntemplates:\n  test: {title: "ping {{ channel }}"}\n')
    assert calendar.channels["desk"].templates == {"test": {"title": "ping {{ channel }}"}}


def test_an_unknown_variable_is_an_error_at_its_line(tmp_path: Path) -> None:
    """A misspelt name fails ``alertd check`` with file:line and a suggestion."""
    path = write(tmp_path, 'type: console\ntemplates:\n  reminder:\n    title: "{{ evnt.title }}"\n')
    found = issues(tmp_path, 'type: console\ntemplates:\n  reminder:\n    title: "{{ evnt.title }}"\n')
    assert [(i.line, i.path) for i in found] == [(line_of(path, "evnt"), "channels.desk.templates.reminder.title")]
    assert "unknown template variable 'evnt' (did you mean 'event'?)" in found[0].message


def test_a_syntax_error_in_a_block_template_points_at_its_own_line(tmp_path: Path) -> None:
    """In a ``text: |`` block the error line is the template line inside the file."""
    channel = "type: console\ntemplates:\n  reminder:\n    text: |\n      {{ title }}\n      {% if late %}late\n"
    path = write(tmp_path, channel)
    found = issues(tmp_path, channel)
    assert [i.path for i in found] == ["channels.desk.templates.reminder.text"]
    assert found[0].line == line_of(path, "{% if late %}")
    assert found[0].message.startswith("template syntax error")


def test_a_missing_attribute_is_caught_by_the_trial_render(tmp_path: Path) -> None:
    """``event.titel`` parses, but fails on a sample message: a load error, not a send-time surprise."""
    found = issues(tmp_path, 'type: console\ntemplates:\n  reminder: {title: "{{ event.titel }}"}\n')
    assert "titel" in found[0].message


def test_an_event_variable_in_a_test_template_is_an_error(tmp_path: Path) -> None:
    """``send-test`` has no event, so ``event.title`` cannot render there."""
    found = issues(tmp_path, 'type: console\ntemplates:\n  test: {title: "{{ event.title }}"}\n')
    assert found[0].path == "channels.desk.templates.test.title"


def test_the_sandbox_refuses_internals(tmp_path: Path) -> None:
    """Templates cannot reach Python internals through attributes."""
    found = issues(tmp_path, 'type: console\ntemplates:\n  test: {title: "{{ title.__class__.__mro__ }}"}\n')
    assert found[0].path == "channels.desk.templates.test.title"


@pytest.mark.parametrize(
    ("templates", "path", "message"),
    [
        ("{remindr: {title: x}}", "channels.desk.templates.remindr", "did you mean 'reminder'?"),
        ("{reminder: {titel: x}}", "channels.desk.templates.reminder.titel", "did you mean 'title'?"),
        ("{reminder: {title: ''}}", "channels.desk.templates.reminder.title", "non-empty"),
        ("[x]", "channels.desk.templates", "mapping"),
    ],
)
def test_bad_template_shapes(tmp_path: Path, templates: str, path: str, message: str) -> None:
    """Unknown kinds and parts get a suggestion; empty or non-mapping values say what is expected."""
    found = issues(tmp_path, f"type: console\ntemplates: {templates}\n")
    assert [i.path for i in found] == [path]
    assert message in found[0].message


def test_plan_renders_with_the_channel_template(tmp_path: Path) -> None:
    """``alertd plan`` shows what would really be sent, template included."""
    from alertd.planning.previews import preview

    path = tmp_path / "calendar.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            timezone: America/New_York
            defaults: {reminders: [1d]}
            channels:
              desk:
                type: console
                templates: {reminder: {title: "⏰ {{ event.title }} ({{ offset_text }})"}}
            events:
              - {id: truce-expiry, title: Truce expires, at: 2025-11-10, notify: [desk]}
            """
        ),
        encoding="utf-8",
    )
    calendar, _ = load_calendar(path, environ={})
    items = preview(calendar, start=datetime(2025, 11, 1, tzinfo=UTC), end=datetime(2025, 11, 30, tzinfo=UTC))
    reminders = [i.message for i in items if i.planned.kind == "reminder"]
    assert [m.title for m in reminders] == ["⏰ Truce expires (1 day before)"]
    assert re.match(r"Truce expires tomorrow\.", reminders[0].text)
