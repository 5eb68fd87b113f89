from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import alertd.channels.catalog as channel_catalog
from alertd.calendar.load import load_calendar, parse_calendar
from alertd.domain import Calendar
from alertd.errors import CalendarError, CalendarIssue

ROOT = Path(__file__).resolve().parents[2]
# A syntactically valid Standard Webhooks secret, so the webhook options model accepts it.
SECRET = "whsec_ZmFrZS1zZWNyZXQtZm9yLWV4YW1wbGVzLW9ubHkhIQ=="


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, environ: Mapping[str, str] | None = None) -> Calendar:
    calendar, warnings = load_calendar(write(tmp_path, text), environ=environ or {})
    assert warnings == []
    return calendar


def issues(tmp_path: Path, text: str, environ: Mapping[str, str] | None = None) -> list[CalendarIssue]:
    with pytest.raises(CalendarError) as info:
        load_calendar(write(tmp_path, text), environ=environ or {})
    return info.value.issues


def only(found: list[CalendarIssue], path: str) -> CalendarIssue:
    matching = [i for i in found if i.path == path]
    assert len(matching) == 1, found
    return matching[0]


# --- the shipped files ------------------------------------------------------------------------------------


def test_seed_loads_cleanly() -> None:
    """The US–China truce seed loads with no errors or warnings and no environment."""
    calendar, warnings = load_calendar(ROOT / "seeds" / "us-china-truce-2025.yaml", environ={})
    assert warnings == []
    assert [e.id for e in calendar.events] == [
        "kl-framework",
        "trump-xi-summit",
        "us-100pct-tariff",
        "truce-expiry",
    ]
    assert list(calendar.channels) == ["console"]


def test_seed_has_both_all_day_and_timed_events() -> None:
    """The summit is timed in Seoul; the truce expiry is an all-day New York date."""
    calendar, _ = load_calendar(ROOT / "seeds" / "us-china-truce-2025.yaml", environ={})
    events = {e.id: e for e in calendar.events}
    summit, expiry = events["trump-xi-summit"], events["truce-expiry"]
    assert (summit.all_day, summit.status, summit.starts_at) == (
        False,
        "tentative",
        datetime(2025, 10, 30, 2, tzinfo=UTC),
    )
    assert (expiry.all_day, expiry.local_start) == (True, datetime(2025, 11, 10))
    assert expiry.starts_at == datetime(2025, 11, 10, 5, tzinfo=UTC)


def test_example_config_loads_with_an_empty_environment() -> None:
    """config/calendar.yaml is valid as shipped, without any ALERTD_* variable set."""
    calendar, warnings = load_calendar(ROOT / "config" / "calendar.yaml", environ={})
    assert warnings == []
    assert len(calendar.events) == 5


# --- building the calendar --------------------------------------------------------------------------------


def test_minimal_calendar_gets_builtin_defaults(tmp_path: Path) -> None:
    """Without defaults: reminders [1d, 0m], all-day reminders at 09:00, countdown within 7d at 09:00."""
    calendar = load(tmp_path, "version: 1\n")
    defaults = calendar.defaults
    assert [o.text for o in defaults.reminders] == ["1d", "0m"]
    assert defaults.all_day_at == time(9, 0)
    assert defaults.countdown is not None
    assert (defaults.countdown.within_days, defaults.countdown.at) == (7, time(9, 0))
    assert calendar.timezone == "UTC"
    assert calendar.events == ()


def test_implicit_console_channel_when_none_declared(tmp_path: Path) -> None:
    """A file without channels gets a console channel in the calendar zone, notified by default."""
    calendar = load(
        tmp_path,
        """\
        version: 1
        timezone: Europe/Paris
        events:
          - {id: a, title: A, at: 2025-11-10}
        """,
    )
    assert calendar.channels["console"].type == "console"
    assert calendar.channels["console"].timezone == "Europe/Paris"
    assert calendar.defaults.notify == ("console",)
    assert calendar.events[0].notify == ("console",)


def test_default_notify_is_every_declared_channel(tmp_path: Path) -> None:
    """Without defaults.notify, events notify all declared channels in file order."""
    calendar = load(
        tmp_path,
        """\
        version: 1
        channels:
          b: {type: console}
          a: {type: console, timezone: Asia/Shanghai, locale: zh}
        """,
    )
    assert calendar.defaults.notify == ("b", "a")
    assert (calendar.channels["a"].timezone, calendar.channels["a"].locale) == ("Asia/Shanghai", "zh")
    assert (calendar.channels["b"].timezone, calendar.channels["b"].locale) == ("UTC", "en")


def test_event_fields_and_overrides(tmp_path: Path) -> None:
    """An event carries its own fields and overrides; ``reminders: []`` means none."""
    calendar = load(
        tmp_path,
        """\
        version: 1
        timezone: America/New_York
        defaults: {reminders: [7d, 1d], all_day_at: "09:00"}
        channels: {a: {type: console}, b: {type: console}}
        events:
          - id: truce-expiry
            title: Truce expires
            at: 2025-11-10
            status: tentative
            tags: [trade, deadline]
            source: https://example.com/a
            notes: Some notes.
            reminders: []
            notify: [b]
            all_day_at: "08:00"
            countdown: false
          - {id: other, title: Other, at: 2025-11-11}
        """,
    )
    first, second = calendar.events
    assert (first.status, first.tags, first.source, first.notes) == (
        "tentative",
        ("trade", "deadline"),
        "https://example.com/a",
        "Some notes.",
    )
    assert (first.reminders, first.notify, first.all_day_at, first.countdown) == ((), ("b",), time(8), False)
    assert [o.text for o in second.reminders] == ["7d", "1d"]
    assert (second.notify, second.all_day_at, second.countdown, second.owner) == (
        ("a", "b"),
        time(9),
        True,
        "file",
    )


def test_local_time_is_in_the_event_zone(tmp_path: Path) -> None:
    """A time without offset is wall-clock time in the event's zone."""
    calendar = load(
        tmp_path,
        """\
        version: 1
        events:
          - {id: a, title: A, at: "2025-10-30T11:00", timezone: Asia/Seoul}
        """,
    )
    event = calendar.events[0]
    assert (event.local_start, event.all_day, event.timezone) == (
        datetime(2025, 10, 30, 11),
        False,
        "Asia/Seoul",
    )
    assert event.starts_at == datetime(2025, 10, 30, 2, tzinfo=UTC)


def test_explicit_offset_is_converted_into_the_event_zone(tmp_path: Path) -> None:
    """``...-05:00`` and ``...Z`` are exact instants; local_start is that instant in the event zone."""
    calendar = load(
        tmp_path,
        """\
        version: 1
        timezone: America/New_York
        events:
          - {id: a, title: A, at: 2025-11-10T00:01-05:00, timezone: Asia/Shanghai}
          - {id: b, title: B, at: 2025-11-10T05:01Z}
        """,
    )
    a, b = calendar.events
    assert a.local_start == datetime(2025, 11, 10, 13, 1)
    assert a.starts_at == b.starts_at == datetime(2025, 11, 10, 5, 1, tzinfo=UTC)
    assert b.local_start == datetime(2025, 11, 10, 0, 1)


def test_countdown_can_be_disabled(tmp_path: Path) -> None:
    """``countdown: false`` in defaults turns digests off."""
    assert load(tmp_path, "version: 1\ndefaults: {countdown: false}\n").defaults.countdown is None


def test_countdown_accepts_weeks(tmp_path: Path) -> None:
    """``within: 2w`` is fourteen days."""
    calendar = load(tmp_path, 'version: 1\ndefaults: {countdown: {within: 2w, at: "07:30"}}\n')
    assert calendar.defaults.countdown is not None
    assert (calendar.defaults.countdown.within_days, calendar.defaults.countdown.at) == (14, time(7, 30))


def test_parse_calendar_names_the_text(tmp_path: Path) -> None:
    """parse_calendar reports issues under the name it was given."""
    with pytest.raises(CalendarError) as info:
        parse_calendar("version: 2\n", name="inline.yaml", environ={})
    assert str(info.value.issues[0]).startswith("inline.yaml:1: version: ")


# --- errors, one kind each ----------------------------------------------------------------------------------


def test_missing_file_is_one_issue_at_line_one(tmp_path: Path) -> None:
    """A missing calendar file raises CalendarError with a single clear issue."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(CalendarError) as info:
        load_calendar(path, environ={})
    [issue] = info.value.issues
    assert (issue.file, issue.line) == (str(path), 1)
    assert "cannot read the calendar file" in issue.message


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """An empty file says to start with ``version: 1``."""
    [issue] = issues(tmp_path, "# nothing\n")
    assert "version: 1" in issue.message


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    """A YAML syntax error becomes an issue on the offending line."""
    [issue] = issues(tmp_path, "version: 1\nevents: [\n  {id: a\n")
    assert issue.line >= 3
    assert "YAML syntax error" in issue.message


def test_version_is_required(tmp_path: Path) -> None:
    """A file without ``version`` is an error at the top."""
    issue = only(issues(tmp_path, "timezone: UTC\n"), "")
    assert (issue.line, issue.message) == (1, "missing required key 'version'")


def test_version_must_be_one(tmp_path: Path) -> None:
    """``version: 2`` (or "1" as text) is rejected on its line."""
    found = issues(tmp_path, "timezone: UTC\nversion: '1'\n")
    assert only(found, "version").line == 2


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    """A misspelt key is named with a did-you-mean hint, on its own line."""
    found = issues(
        tmp_path,
        """\
        version: 1
        events:
          - id: a
            title: A
            at: 2025-11-10
            remindrs: [1d]
        """,
    )
    issue = only(found, "events[0].remindrs")
    assert issue.line == 6
    assert issue.message == "unknown key 'remindrs' (did you mean 'reminders'?)"


def test_unknown_top_level_key_lists_choices(tmp_path: Path) -> None:
    """An unrelated unknown key lists the valid keys instead of guessing."""
    issue = only(issues(tmp_path, "version: 1\nxyzzy: 1\n"), "xyzzy")
    assert "expected one of" in issue.message
    assert "events" in issue.message


def test_wrong_type_is_an_error(tmp_path: Path) -> None:
    """``reminders: 7d`` (not a list) is an error with an example."""
    found = issues(tmp_path, "version: 1\ndefaults:\n  reminders: 7d\n")
    issue = only(found, "defaults.reminders")
    assert issue.line == 3
    assert "must be a list" in issue.message


def test_duplicate_event_ids_point_at_both(tmp_path: Path) -> None:
    """The second of two equal ids is an error on its line naming the first's line."""
    found = issues(
        tmp_path,
        """\
        version: 1
        events:
          - id: a
            title: A
            at: 2025-11-10
          - id: a
            title: Again
            at: 2025-11-11
        """,
    )
    issue = only(found, "events[1].id")
    assert issue.line == 6
    assert "first on line 3" in issue.message


def test_duplicate_yaml_keys_are_errors(tmp_path: Path) -> None:
    """A key written twice in one mapping is an error at the second."""
    found = issues(tmp_path, "version: 1\ntimezone: UTC\ntimezone: Asia/Tokyo\n")
    assert only(found, "timezone").line == 3


def test_notify_unknown_channel(tmp_path: Path) -> None:
    """Naming an undeclared channel is an error at that list item with a suggestion."""
    found = issues(
        tmp_path,
        """\
        version: 1
        channels:
          desk-slack: {type: console}
        events:
          - id: a
            title: A
            at: 2025-11-10
            notify: [desk-slack, desk-slak]
        """,
    )
    issue = only(found, "events[0].notify[1]")
    assert issue.line == 8
    assert "did you mean 'desk-slack'" in issue.message


def test_defaults_notify_unknown_channel(tmp_path: Path) -> None:
    """defaults.notify must name declared channels (here only the implicit console exists)."""
    issue = only(issues(tmp_path, "version: 1\ndefaults:\n  notify: [slack]\n"), "defaults.notify[0]")
    assert issue.line == 3


@pytest.mark.parametrize(
    ("text", "path", "line"),
    [
        ("version: 1\ntimezone: Eastern\n", "timezone", 2),
        (
            "version: 1\nevents:\n  - {id: a, title: A, at: 2025-11-10, timezone: EST+5}\n",
            "events[0].timezone",
            3,
        ),
        ("version: 1\nchannels:\n  c: {type: console, timezone: Mars/Base}\n", "channels.c.timezone", 3),
    ],
)
def test_bad_zones(tmp_path: Path, text: str, path: str, line: int) -> None:
    """Unknown time zones are errors wherever they are written."""
    issue = only(issues(tmp_path, text), path)
    assert issue.line == line
    assert "IANA" in issue.message


def test_bad_offset(tmp_path: Path) -> None:
    """A malformed reminder offset is an error at its list index."""
    found = issues(tmp_path, "version: 1\ndefaults:\n  reminders: [1d, 2 hours]\n")
    issue = only(found, "defaults.reminders[1]")
    assert issue.line == 3
    assert "bad offset" in issue.message


def test_bad_clock_time(tmp_path: Path) -> None:
    """A time of day that is not HH:MM is an error with the fix."""
    issue = only(issues(tmp_path, "version: 1\ndefaults:\n  all_day_at: 9am\n"), "defaults.all_day_at")
    assert "HH:MM" in issue.message


def test_countdown_within_must_be_whole_days(tmp_path: Path) -> None:
    """``within: 36h`` is rejected: the digest window counts days."""
    found = issues(tmp_path, "version: 1\ndefaults:\n  countdown: {within: 36h}\n")
    assert "whole days" in only(found, "defaults.countdown.within").message


@pytest.mark.parametrize("at", ["2025-13-01", "next tuesday", "2025-11-10T25:00", "20251110", "1731196800"])
def test_bad_at_values(tmp_path: Path, at: str) -> None:
    """Dates and times that do not parse are errors showing the accepted forms."""
    found = issues(tmp_path, f"version: 1\nevents:\n  - id: a\n    title: A\n    at: {at}\n")
    issue = only(found, "events[0].at")
    assert issue.line == 5
    assert "2025-11-10T00:01-05:00" in issue.message


def test_bad_status_suggests(tmp_path: Path) -> None:
    """An unknown status names the close valid one."""
    found = issues(tmp_path, "version: 1\nevents:\n  - {id: a, title: A, at: 2025-11-10, status: confirmd}\n")
    assert "did you mean 'confirmed'" in only(found, "events[0].status").message


def test_bad_event_id(tmp_path: Path) -> None:
    """Event ids are lower-case letters, digits and dashes."""
    found = issues(tmp_path, "version: 1\nevents:\n  - {id: Truce_Expiry, title: A, at: 2025-11-10}\n")
    assert "bad event id" in only(found, "events[0].id").message


def test_missing_required_event_keys(tmp_path: Path) -> None:
    """An event without title and at gets one error per missing key at the event's line."""
    found = issues(tmp_path, "version: 1\nevents:\n  - id: a\n")
    messages = sorted(i.message for i in found if i.path == "events[0]")
    assert messages == ["missing required key 'at'", "missing required key 'title'"]
    assert {i.line for i in found} == {3}


def test_empty_title(tmp_path: Path) -> None:
    """A blank title is an error."""
    found = issues(tmp_path, "version: 1\nevents:\n  - {id: a, title: '  ', at: 2025-11-10}\n")
    assert only(found, "events[0].title").message == "must be non-empty text"


def test_dst_gap_is_an_error_with_the_fix(tmp_path: Path) -> None:
    """A local time skipped by spring-forward is an error suggesting the time after the jump."""
    found = issues(
        tmp_path,
        """\
        version: 1
        timezone: America/New_York
        events:
          - {id: a, title: A, at: "2025-03-09T02:30"}
        """,
    )
    issue = only(found, "events[0].at")
    assert issue.line == 4
    assert issue.message == (
        "2025-03-09T02:30 does not exist in America/New_York (clocks jump forward); "
        "use 03:30 or give an explicit offset"
    )


def test_dst_fold_is_a_warning_resolved_to_the_first_occurrence(tmp_path: Path) -> None:
    """A local time that happens twice loads with a warning and means the earlier (EDT) instant."""
    path = write(
        tmp_path,
        """\
        version: 1
        timezone: America/New_York
        events:
          - {id: a, title: A, at: "2025-11-02T01:30"}
        """,
    )
    calendar, warnings = load_calendar(path, environ={})
    [warning] = warnings
    assert (warning.severity, warning.line, warning.path) == ("warning", 4, "events[0].at")
    assert "happens twice" in warning.message
    assert calendar.events[0].starts_at == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_warnings_travel_with_errors(tmp_path: Path) -> None:
    """When the file also has errors, the CalendarError lists the warnings too."""
    found = issues(
        tmp_path,
        """\
        version: 1
        timezone: America/New_York
        events:
          - {id: a, title: A, at: "2025-11-02T01:30"}
          - {id: b, title: B, at: "2025-03-09T02:30"}
        """,
    )
    assert sorted(i.severity for i in found) == ["error", "warning"]


def test_all_mistakes_are_reported_in_one_pass(tmp_path: Path) -> None:
    """A file with many independent mistakes reports every one of them, in line order."""
    found = issues(
        tmp_path,
        """\
        version: 1
        timezone: America/Nwe_York
        defaults:
          reminders: [7d, 3x]
          all_day_at: "25:00"
        channels:
          desk: {type: slak}
        events:
          - id: a
            title: A
            at: 2025-11-31
          - id: b
            title: B
            at: 2025-11-10
            notify: [nobody]
            colour: red
          - id: a
            title: Dup
            at: 2025-11-12
        """,
    )
    assert [(i.line, i.path) for i in found] == [
        (2, "timezone"),
        (4, "defaults.reminders[1]"),
        (5, "defaults.all_day_at"),
        (7, "channels.desk.type"),
        (11, "events[0].at"),
        (15, "events[1].notify[0]"),
        (16, "events[1].colour"),
        (17, "events[2].id"),
    ]
    assert all(i.file.endswith("calendar.yaml") for i in found)


def test_issue_renders_as_file_line_path_message(tmp_path: Path) -> None:
    """Issues print as ``file:line: path: message`` for ``alertd check``."""
    [issue] = issues(tmp_path, "version: 1\nevents: {}\n")
    assert str(issue) == f"{tmp_path / 'calendar.yaml'}:2: events: {issue.message}"


# --- channels -----------------------------------------------------------------------------------------------


def test_unknown_channel_type_lists_known_types(tmp_path: Path) -> None:
    """An unknown type is an error that lists the registered types."""
    issue = only(issues(tmp_path, "version: 1\nchannels:\n  c: {type: carrier-pigeon}\n"), "channels.c.type")
    assert "console" in issue.message
    assert "webhook" in issue.message


def test_channel_type_is_required(tmp_path: Path) -> None:
    """A channel without ``type`` is an error at the channel."""
    issue = only(issues(tmp_path, "version: 1\nchannels:\n  c: {locale: en}\n"), "channels.c")
    assert "missing required key 'type'" in issue.message


def test_bad_channel_id(tmp_path: Path) -> None:
    """Channel ids are lower-case letters, digits, dash and underscore."""
    issue = only(issues(tmp_path, "version: 1\nchannels:\n  Desk Slack: {type: console}\n"), "channels.Desk Slack")
    assert "bad channel id" in issue.message


def test_channel_option_unknown_key_has_its_line(tmp_path: Path) -> None:
    """A key the channel type does not know is reported on its own line."""
    found = issues(
        tmp_path,
        """\
        version: 1
        channels:
          c:
            type: console
            colour: red
        """,
    )
    issue = only(found, "channels.c.colour")
    assert issue.line == 5
    assert "unknown key 'colour' for a console channel" in issue.message


def test_channel_option_missing_key_points_at_the_channel(tmp_path: Path) -> None:
    """A required option that is absent is reported at the channel's line."""
    found = issues(tmp_path, "version: 1\nchannels:\n  hook:\n    type: webhook\n")
    issue = only(found, "channels.hook.url")
    assert issue.line == 3
    assert issue.message == "missing required key 'url' for a webhook channel"


def test_channel_option_validator_message(tmp_path: Path) -> None:
    """A type's own validator message is shown without pydantic's prefix."""
    found = issues(tmp_path, "version: 1\nchannels:\n  hook: {type: webhook, url: 'ftp://x'}\n")
    issue = only(found, "channels.hook.url")
    assert not issue.message.startswith("Value error")


def test_broken_channel_does_not_cascade_into_notify(tmp_path: Path) -> None:
    """An event naming a declared but invalid channel gets no extra 'unknown channel' error."""
    found = issues(
        tmp_path,
        """\
        version: 1
        channels:
          c: {type: slak}
        events:
          - {id: a, title: A, at: 2025-11-10, notify: [c]}
        """,
    )
    assert [i.path for i in found] == ["channels.c.type"]


# --- environment and secrets --------------------------------------------------------------------------------


def test_variables_are_interpolated(tmp_path: Path) -> None:
    """``${VAR}`` in any string is replaced from the given environment."""
    calendar = load(
        tmp_path,
        """\
        version: 1
        channels:
          hook: {type: webhook, url: "https://${HOST}/alertd"}
        events:
          - {id: a, title: "${WHO} deadline", at: 2025-11-10}
        """,
        environ={"HOST": "hooks.example.com", "WHO": "Desk"},
    )
    assert calendar.channels["hook"].options["url"] == "https://hooks.example.com/alertd"
    assert calendar.events[0].title == "Desk deadline"


def test_double_dollar_is_a_literal(tmp_path: Path) -> None:
    """``$${VAR}`` stays a literal ``${VAR}`` and needs no variable."""
    calendar = load(tmp_path, "version: 1\nevents:\n  - {id: a, title: 'Cost $${PRICE}', at: 2025-11-10}\n")
    assert calendar.events[0].title == "Cost ${PRICE}"


def test_missing_variable_names_it_and_the_key(tmp_path: Path) -> None:
    """An unset variable is an error naming the variable, the key path and how to fix it."""
    found = issues(
        tmp_path,
        """\
        version: 1
        channels:
          desk-slack:
            type: slack
            url: "${ALERTD_SLACK_URL}"
        """,
    )
    issue = only(found, "channels.desk-slack.url")
    assert issue.line == 5
    assert "ALERTD_SLACK_URL" in issue.message
    assert "set ALERTD_SLACK_URL in the environment or .env" in issue.message


def test_environ_defaults_to_the_process_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``environ``, variables come from os.environ."""
    monkeypatch.setenv("ALERTD_TEST_TITLE", "From env")
    path = write(tmp_path, "version: 1\nevents:\n  - {id: a, title: '${ALERTD_TEST_TITLE}', at: 2025-11-10}\n")
    calendar, _ = load_calendar(path)
    assert calendar.events[0].title == "From env"


def test_secret_file_is_read_relative_to_the_calendar(tmp_path: Path) -> None:
    """``secret_file`` reads the secret from a file next to the calendar, without its trailing newline."""
    (tmp_path / "audit.secret").write_text(SECRET + "\n", encoding="utf-8")
    calendar = load(
        tmp_path,
        """\
        version: 1
        channels:
          audit: {type: webhook, url: "https://hooks.example.com/a", secret_file: audit.secret}
        """,
    )
    options = calendar.channels["audit"].options
    assert options["secret"] == SECRET
    assert "secret_file" not in options


def test_secret_and_secret_file_together_is_an_error(tmp_path: Path) -> None:
    """Giving both ``secret`` and ``secret_file`` is an error on the ``_file`` key."""
    (tmp_path / "s").write_text(SECRET, encoding="utf-8")
    found = issues(
        tmp_path,
        f"""\
        version: 1
        channels:
          audit:
            type: webhook
            url: "https://hooks.example.com/a"
            secret: {SECRET}
            secret_file: s
        """,
    )
    issue = only(found, "channels.audit.secret_file")
    assert issue.line == 7
    assert "not both" in issue.message


def test_unreadable_secret_file_names_the_path(tmp_path: Path) -> None:
    """A ``_file`` that cannot be read is an error naming the file."""
    found = issues(
        tmp_path,
        """\
        version: 1
        channels:
          audit: {type: webhook, url_file: missing/url.txt}
        """,
    )
    issue = only(found, "channels.audit.url_file")
    assert str(tmp_path / "missing" / "url.txt") in issue.message


def test_errors_in_a_file_secret_point_at_the_file_key(tmp_path: Path) -> None:
    """A bad value read from ``url_file`` is reported on the ``url_file`` line."""
    (tmp_path / "url.txt").write_text("ftp://nope\n", encoding="utf-8")
    found = issues(tmp_path, "version: 1\nchannels:\n  hook:\n    type: webhook\n    url_file: url.txt\n")
    assert only(found, "channels.hook.url_file").line == 5


def test_bad_variable_reference(tmp_path: Path) -> None:
    """``${not a name}`` is an error showing the ``${NAME}`` form."""
    found = issues(tmp_path, "version: 1\nevents:\n  - {id: a, title: 'x ${1 2}', at: 2025-11-10}\n")
    assert "bad variable reference" in only(found, "events[0].title").message


def test_every_missing_variable_in_a_value_is_reported(tmp_path: Path) -> None:
    """Two unset variables in one string give two errors, each naming its variable."""
    found = issues(tmp_path, "version: 1\nevents:\n  - {id: a, title: '${ONE} ${TWO}', at: 2025-11-10}\n")
    assert sorted(i.message.split()[2] for i in found) == ["ONE", "TWO"]


def test_root_must_be_a_mapping(tmp_path: Path) -> None:
    """A file whose top level is a list gets one error saying what the top level should be."""
    [issue] = issues(tmp_path, "- version: 1\n")
    assert "must be a mapping" in issue.message


def test_repeated_reminders_are_kept_once(tmp_path: Path) -> None:
    """Writing the same offset twice plans it once."""
    calendar = load(tmp_path, "version: 1\ndefaults:\n  reminders: [1d, 2h, 1d]\n")
    assert [o.text for o in calendar.defaults.reminders] == ["1d", "2h"]


def test_a_type_whose_optional_extra_is_missing_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``alertd[apprise]`` installed, an apprise channel says which extra to install, not 'unknown type'."""
    monkeypatch.setitem(channel_catalog.EXTRAS, "apprise", "alertd_test_no_such_extra")
    found = issues(tmp_path, "version: 1\nchannels:\n  anywhere: {type: apprise, urls: ['json://localhost']}\n")
    issue = only(found, "channels.anywhere.type")
    assert (issue.line, issue.message) == (
        3,
        "channel type 'apprise' needs an optional extra: pip install 'alertd[apprise]'",
    )


# --- times a person wrote: exact instants, and all-day events on any day ----------------------------------

# The second run of a repeated hour, written with its offset (or in UTC), in zones with 1-hour, 30-minute and
# 2-hour folds: each is the instant written, not the first run an hour (or two) earlier.
SECOND_RUNS = [
    ("America/New_York", "2025-11-02T01:30-05:00", datetime(2025, 11, 2, 6, 30, tzinfo=UTC)),
    ("America/New_York", "2025-11-02T06:30Z", datetime(2025, 11, 2, 6, 30, tzinfo=UTC)),
    ("Africa/Cairo", "2025-10-30T23:30+02:00", datetime(2025, 10, 30, 21, 30, tzinfo=UTC)),
    ("Australia/Lord_Howe", "2025-04-06T01:45+10:30", datetime(2025, 4, 5, 15, 15, tzinfo=UTC)),
    ("Antarctica/Troll", "2025-10-26T02:00+00:00", datetime(2025, 10, 26, 2, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("zone_name", "at", "instant"), SECOND_RUNS)
def test_a_time_with_an_offset_in_a_fold_is_the_instant_written(
    tmp_path: Path, zone_name: str, at: str, instant: datetime
) -> None:
    """An explicit offset or Z names one instant: the second run of a repeated hour stays the second, silently."""
    event = load(tmp_path, f"version: 1\nevents:\n  - {{id: a, title: A, at: '{at}', timezone: {zone_name}}}\n").events[
        0
    ]
    assert event.starts_at == instant
    assert (event.local_start, event.local_start.fold) == (
        instant.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None),
        1,
    )


def test_the_fold_warnings_advice_means_the_second_run(tmp_path: Path) -> None:
    """Appending the offset the fold warning suggests gives the second 01:30, with no warning left."""
    text = "version: 1\ntimezone: America/New_York\nevents:\n  - {id: a, title: A, at: '2025-11-02T01:30%s'}\n"
    _, [warning] = load_calendar(write(tmp_path, text % ""), environ={})
    advice = re.search(r"append (\S+) to mean the second", warning.message)
    assert advice is not None
    event = load(tmp_path, text % advice.group(1)).events[0]
    assert event.starts_at == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)


def test_an_offset_the_zone_never_uses_is_the_instant_written_without_a_warning(tmp_path: Path) -> None:
    """01:30+09:00 on a New York event is 16:30Z: an offset is taken as written, in whatever zone it belongs to."""
    event = load(
        tmp_path,
        "version: 1\ntimezone: America/New_York\nevents:\n  - {id: a, title: A, at: '2025-11-02T01:30+09:00'}\n",
    ).events[0]
    assert (event.starts_at, event.local_start) == (
        datetime(2025, 11, 1, 16, 30, tzinfo=UTC),
        datetime(2025, 11, 1, 12, 30),
    )


# DST starts at midnight on these days, so local midnight never happens: each day begins at the jump.
MIDNIGHT_SKIPPED = [
    ("America/Santiago", "2025-09-07", datetime(2025, 9, 7, 4, tzinfo=UTC)),
    ("America/Havana", "2025-03-09", datetime(2025, 3, 9, 5, tzinfo=UTC)),
    ("Africa/Cairo", "2025-04-25", datetime(2025, 4, 24, 22, tzinfo=UTC)),
    ("Atlantic/Azores", "2025-03-30", datetime(2025, 3, 30, 1, tzinfo=UTC)),
    ("America/Asuncion", "2024-10-06", datetime(2024, 10, 6, 4, tzinfo=UTC)),
    ("Asia/Beirut", "2025-03-30", datetime(2025, 3, 29, 22, tzinfo=UTC)),
]
# DST ends at 01:00 on these days, so midnight happens twice: the day begins at its first run.
MIDNIGHT_REPEATED = [
    ("America/Havana", "2025-11-02", datetime(2025, 11, 2, 4, tzinfo=UTC)),
    ("Atlantic/Azores", "2025-10-26", datetime(2025, 10, 26, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("zone_name", "day", "first_instant"), MIDNIGHT_SKIPPED + MIDNIGHT_REPEATED)
def test_an_all_day_event_starts_at_the_first_instant_of_its_day(
    tmp_path: Path, zone_name: str, day: str, first_instant: datetime
) -> None:
    """A date is valid on any day, also when its midnight is skipped or repeated, and loads without warnings."""
    event = load(tmp_path, f"version: 1\nevents:\n  - {{id: a, title: A, at: {day}, timezone: {zone_name}}}\n").events[
        0
    ]
    assert (event.all_day, event.starts_at) == (True, first_instant)
    assert first_instant.astimezone(ZoneInfo(zone_name)).date().isoformat() == day


def test_a_day_the_zone_skipped_is_an_error_naming_it(tmp_path: Path) -> None:
    """Samoa skipped 30 December 2011: an all-day event on it is an error, not a silent move."""
    found = issues(tmp_path, "version: 1\nevents:\n  - {id: a, title: A, at: 2011-12-30, timezone: Pacific/Apia}\n")
    assert only(found, "events[0].at").message == (
        "2011-12-30 does not exist in Pacific/Apia (the zone skipped that day); choose another date"
    )


def test_admin_names_the_channel_that_hears_of_trouble(tmp_path: Path) -> None:
    text = """
        version: 1
        admin: ops
        channels: {ops: {type: console}, desk: {type: console}}
        events: []
    """
    assert load(tmp_path, text).admin == "ops"


def test_admin_must_be_a_declared_channel(tmp_path: Path) -> None:
    text = """
        version: 1
        admin: opz
        channels: {ops: {type: console}}
        events: []
    """
    found = only(issues(tmp_path, text), "admin")
    assert (found.line, found.message) == (3, "unknown channel 'opz' (did you mean 'ops'?)")


def test_without_secrets_an_unset_variable_leaves_the_channel_without_it(tmp_path: Path) -> None:
    text = """
        version: 1
        channels: {desk: {type: slack, url: "${DESK_URL}", timezone: Asia/Tokyo}}
        events: []
    """
    calendar, warnings = load_calendar(write(tmp_path, text), environ={}, secrets=False)
    assert (calendar.channels["desk"].timezone, calendar.channels["desk"].options, warnings) == ("Asia/Tokyo", {}, [])


def test_without_secrets_other_channel_mistakes_are_still_errors(tmp_path: Path) -> None:
    text = """
        version: 1
        channels: {desk: {type: slack, url: "${DESK_URL}", colour: red}}
        events: []
    """
    with pytest.raises(CalendarError) as caught:
        load_calendar(write(tmp_path, text), environ={}, secrets=False)
    assert [i.path for i in caught.value.issues] == ["channels.desk.colour"]


def test_an_unknown_key_is_reported_even_when_its_value_names_a_missing_variable(tmp_path: Path) -> None:
    """The missing variable is one error and the key nobody reads is another: both are shown."""
    calendar = write(tmp_path, "version: 1\ntimezone: UTC\nevents: []\nalerts: ${NOT_SET_HERE}\n")
    with pytest.raises(CalendarError) as info:
        load_calendar(calendar, environ={})
    messages = [i.message for i in info.value.issues]
    assert any(m.startswith("unknown key 'alerts'") for m in messages), messages
    assert any(m.startswith("environment variable NOT_SET_HERE is not set") for m in messages), messages
