"""Properties of the calendar loader: whatever the file holds, the result is a Calendar (with warnings) or a
CalendarError whose issues each name the file and a line of it, never any other exception."""

from __future__ import annotations

import copy
from datetime import date, time
from typing import Any
from zoneinfo import available_timezones

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from alertd.calendar.load import parse_calendar
from alertd.domain import Calendar
from alertd.errors import CalendarError, CalendarIssue

from .profile import PROPERTY

NAME = "calendar.yaml"
ZONES = sorted(available_timezones())
SECRET = "whsec_ZmFrZS1zZWNyZXQtZm9yLWV4YW1wbGVzLW9ubHkhIQ=="
ENVIRON = {"ALERTD_HOOK_URL": "https://hooks.example.com/T000/B000/xyz"}

VALID: dict[str, Any] = {
    "version": 1,
    "timezone": "America/New_York",
    "defaults": {
        "reminders": ["7d", "1d", "2h", "0m"],
        "all_day_at": "09:00",
        "countdown": {"within": "14d", "at": "09:00"},
        "notify": ["desk"],
    },
    "channels": {
        "desk": {"type": "webhook", "url": "${ALERTD_HOOK_URL}", "secret": SECRET},
        "out": {"type": "console", "timezone": "Asia/Shanghai", "locale": "zh"},
    },
    "events": [
        {
            "id": "truce-expiry",
            "title": "US–China tariff truce expires",
            "at": "2025-11-10",
            "timezone": "America/New_York",
            "status": "confirmed",
            "tags": ["trade", "deadline"],
            "reminders": ["14d", "+1d"],
            "notify": ["desk", "out"],
        },
        {"id": "summit", "title": "Summit", "at": "2025-10-30T11:00", "timezone": "Asia/Seoul", "countdown": False},
        {"id": "tariff", "title": "Tariff", "at": "2025-11-01T00:01-04:00", "status": "tentative"},
    ],
}

# --- strategies ---------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**40),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "7d",
            "-0m",
            "1d12h",
            "99999999999w",
            "2h30",
            "25:00",
            "9:30",
            "Mars/Olympus",
            "America/New_York",
            "../etc/passwd",
            "2025-03-09T02:30",  # in the New York DST gap
            "2025-11-02T01:30",  # in the New York DST fold
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "0001-01-01",
            "9999-12-31",
            "2025-02-30",
            "${UNSET_VARIABLE}",
            "$${LITERAL}",
            "${}",
            "ftp://hooks.example.com/x",
            "file:///etc/passwd",
            "https://",
            "whsec_not base64!",
            "desk",
            "nobody",
            "truce-expiry",
            "Ünïcødé 🎉",
            "\u202e\u0000",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside ``node`` (mapping keys and list indexes), the root excluded."""
    found: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """The valid calendar with one to four random edits: replace, delete, add an unknown key, duplicate."""
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace":
            parent[last] = draw(values)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif action == "add":
            parent.append(draw(values))
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))  # a duplicate event id, offset, channel name…
    return doc


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False)


def _load(text: str) -> Calendar | CalendarError:
    """Either outcome the loader may have; anything else it raises fails the property."""
    error: CalendarError | None = None
    try:
        calendar, warnings = parse_calendar(text, name=NAME, environ=ENVIRON)
    except CalendarError as exc:
        error = exc
    if error is not None:
        assert error.issues, "a CalendarError must list its issues"
        assert any(i.severity == "error" for i in error.issues)
        _check_issues(text, error.issues)
        assert "\n" not in str(error)
        return error
    _check_issues(text, warnings)
    assert all(i.severity == "warning" for i in warnings)
    for event in calendar.events:
        assert event.starts_at.tzinfo is not None
        assert event.starts_at.utcoffset() is not None
        assert not event.starts_at.utcoffset()
    return calendar


def _check_issues(text: str, issues: list[CalendarIssue]) -> None:
    lines = max(1, len(text.splitlines()))
    for issue in issues:
        assert issue.file == NAME
        assert 1 <= issue.line <= lines + 1, (issue, lines)
        assert issue.message.strip()
        assert str(issue).startswith(f"{NAME}:{issue.line}: ")


# --- properties ---------------------------------------------------------------------------------------------


def test_the_base_calendar_is_valid() -> None:
    """The documents the properties mutate start out valid, so every failure is the mutation's."""
    result = _load(_dump(VALID))
    assert isinstance(result, Calendar)
    assert [e.id for e in result.events] == [e["id"] for e in VALID["events"]]


@PROPERTY
@given(st.text())
@example("\x1f")  # regression: PyYAML's reader error spanned two lines
@example("version: 1\n\x07\n")
def test_arbitrary_text_is_a_calendar_or_a_calendar_error(text: str) -> None:
    """Any text at all, YAML or not."""
    _load(text)


@PROPERTY
@given(values)
@example({"\n": 1})  # regression: a key holding a newline broke the one-line message
def test_arbitrary_yaml_documents_are_a_calendar_or_a_calendar_error(doc: Any) -> None:
    """Any YAML document, including non-mapping roots (lists, scalars, null)."""
    _load(_dump(doc))


@PROPERTY
@given(mutated())
def test_mutated_calendars_are_a_calendar_or_a_calendar_error(doc: dict[str, Any]) -> None:
    """Wrong types, unknown keys, bad offsets and zones, gap times, duplicates, huge numbers, unicode."""
    _load(_dump(doc))


@PROPERTY
@given(mutated(), st.data())
def test_mutated_calendars_in_flow_style_keep_their_lines(doc: dict[str, Any], data: st.DataObject) -> None:
    """The same documents written in flow style, or wrapped to odd widths, still report real lines."""
    width = data.draw(st.integers(20, 200))
    _load(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=None, width=width))


@PROPERTY
@given(st.text(min_size=1, max_size=12).filter(lambda k: k not in VALID), values)
def test_an_unknown_top_level_key_is_reported_on_its_own_line(key: str, value: Any) -> None:
    """The error for an unknown key points at the line that key is written on."""
    doc = {**copy.deepcopy(VALID), key: value}
    text = _dump(doc)
    result = _load(text)
    assert isinstance(result, CalendarError)
    # The key as YAML reads it back (YAML folds some characters, e.g. NEL, into others).
    written = yaml.compose(text, Loader=yaml.SafeLoader)
    assert isinstance(written, yaml.MappingNode)
    node = next(k for k, _ in written.value if k.value not in VALID)
    line = node.start_mark.line + 1
    found = [i for i in result.issues if i.message.startswith(f"unknown key {node.value!r}")]
    assert found, result.issues
    assert found[0].line == line


@PROPERTY
@given(st.sampled_from(["events", "defaults", "channels", "defaults.reminders", "events.0"]), values, st.data())
def test_anchors_and_aliases_expand_or_fail_as_calendar_errors(where: str, value: Any, data: st.DataObject) -> None:
    """A value anchored once and aliased (or merged with ``<<``) anywhere loads like the expanded document."""
    anchored = yaml.safe_dump({"x": value}, allow_unicode=True, default_flow_style=True, width=10_000)
    anchored = anchored.strip()[1:-1].split(":", 1)[1].strip() or "null"
    merge = data.draw(st.booleans())
    text = "\n".join(
        [
            f"base: &a {anchored}",
            "version: 1",
            "timezone: UTC",
            "channels: {desk: {type: console}}",
            "events:",
            "  - id: one",
            "    title: One",
            "    at: 2025-11-10",
            "    <<: *a" if merge else "    tags: *a",
        ]
    )
    if where != "events.0":
        text += f"\n# {where}\n" + (f"{where.split('.')[0]}x: *a" if "." in where else "")
    _load(text)


def test_alias_bombs_are_refused_with_a_calendar_error() -> None:
    """Nested aliases that expand exponentially stop at the node budget with a file:line error."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    result = _load("\n".join(["version: 1", *lines]))
    assert isinstance(result, CalendarError)
    assert "anchors and aliases" in str(result)


@PROPERTY
@given(
    st.dates() | st.sampled_from([date.min, date.max, date(1, 1, 2), date(9999, 12, 30)]),
    st.none() | st.times(),
    st.sampled_from(ZONES),
    st.lists(st.sampled_from(["14d", "1w", "2h", "0m", "+1d", "+520w", "3660d"]), max_size=3),
)
@example(date.min, None, "Asia/Tokyo", [])  # regression: OverflowError converting year 1 to UTC
@example(date.max, time(23, 59), "America/New_York", [])
def test_any_date_in_any_zone_is_a_calendar_or_a_calendar_error(
    day: date, clock: time | None, tz: str, reminders: list[str]
) -> None:
    """Dates at the ends of the calendar (year 1, year 9999) in zones far from UTC never overflow."""
    at = day.isoformat() if clock is None else f"{day.isoformat()}T{clock.strftime('%H:%M')}"
    doc = {
        "version": 1,
        "timezone": tz,
        "events": [{"id": "e", "title": "E", "at": at, "reminders": reminders}],
    }
    _load(_dump(doc))


@PROPERTY
@given(st.sampled_from(["events", "channels", "defaults"]), st.integers(1, 5))
def test_self_referencing_aliases_are_calendar_errors(key: str, depth: int) -> None:
    """A mapping that contains an alias to itself is reported, not followed forever."""
    text = f"version: 1\n{key}: &loop\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(depth))
    text += f"{'  ' * (depth + 1)}inner: *loop\n"
    _load(text)
