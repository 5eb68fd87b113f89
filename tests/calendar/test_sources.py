"""The calendar's ``sources:`` section: feeds checked like every other key, each problem at file:line."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path

import pytest

from alertd.calendar import source_of
from alertd.calendar.load import load_calendar
from alertd.domain import Calendar
from alertd.errors import CalendarError, CalendarIssue

HEAD = """\
version: 1
timezone: America/New_York
defaults: {reminders: [1d], notify: [desk]}
channels:
  desk: {type: console}
  mail: {type: console}
"""


def write(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(HEAD + "sources:\n" + textwrap.indent(textwrap.dedent(sources), "  "), encoding="utf-8")
    return path


def load(tmp_path: Path, sources: str, environ: Mapping[str, str] | None = None) -> Calendar:
    calendar, warnings = load_calendar(write(tmp_path, sources), environ=environ or {})
    assert warnings == []
    return calendar


def issues(tmp_path: Path, sources: str) -> list[CalendarIssue]:
    with pytest.raises(CalendarError) as info:
        load_calendar(write(tmp_path, sources), environ={})
    return info.value.issues


def test_a_url_source_gets_the_defaults_and_a_fifteen_minute_refresh(tmp_path: Path) -> None:
    (source,) = load(tmp_path, "- {id: holidays, url: https://example.com/h.ics}").sources
    assert (source.url, source.path, source.refresh) == ("https://example.com/h.ics", None, timedelta(minutes=15))
    assert (source.timezone, source.notify, [o.text for o in source.reminders]) == (
        "America/New_York",
        ("desk",),
        ["1d"],
    )


def test_a_source_sets_its_own_event_defaults(tmp_path: Path) -> None:
    text = "- {id: h, url: https://e.com/x.ics, refresh: 1h, notify: [mail], reminders: [2d], tags: [hol],"
    text += " timezone: Asia/Shanghai, all_day_at: '08:00', countdown: false}"
    (source,) = load(tmp_path, text).sources
    assert (source.refresh, source.notify, source.tags, source.timezone) == (
        timedelta(hours=1),
        ("mail",),
        ("hol",),
        "Asia/Shanghai",
    )
    assert (source.all_day_at, source.countdown, [o.text for o in source.reminders]) == (time(8), False, ["2d"])


def test_a_path_is_read_beside_the_calendar_file(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "team.ics").write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    (source,) = load(tmp_path, "- {id: local, path: feeds/team.ics}").sources
    assert source.path == str(tmp_path / "feeds" / "team.ics")


def test_a_webcal_url_is_fetched_over_https(tmp_path: Path) -> None:
    (source,) = load(tmp_path, "- {id: w, url: 'webcal://example.com/cal.ics'}").sources
    assert source.url == "https://example.com/cal.ics"


def test_a_url_from_the_environment_is_never_quoted_in_an_error(tmp_path: Path) -> None:
    secret = "https://calendar.google.com/calendar/ical/x/private-" + "abc123def/basic.ics"
    (source,) = load(tmp_path, "- {id: g, url: '${GCAL_URL}'}", environ={"GCAL_URL": secret}).sources
    assert source.url == secret
    assert source.where == "https://calendar.google.com/…"


def test_a_bad_url_is_an_error_that_does_not_quote_it(tmp_path: Path) -> None:
    (issue,) = issues(tmp_path, "- {id: g, url: 'ftp://example.com/private-token'}")
    assert issue.path == "sources[0].url"
    assert "private-token" not in issue.message


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("- {id: a, url: https://e.com/a.ics, path: a.ics}", "sources[0]", "either 'url'"),
        ("- {id: a}", "sources[0]", "either 'url'"),
        ("- {id: a, url: https://e.com/a.ics, refresh: 10s}", "sources[0].refresh", "from 1m to 7d"),
        ("- {id: a, url: https://e.com/a.ics, refresh: 30d}", "sources[0].refresh", "from 1m to 7d"),
        ("- {id: Bad_Id, url: https://e.com/a.ics}", "sources[0].id", "bad source id"),
        ("- {id: a, url: https://e.com/a.ics, notify: [nope]}", "sources[0].notify[0]", "unknown channel"),
        ("- {id: a, url: https://e.com/a.ics, refersh: 1h}", "sources[0].refersh", "did you mean 'refresh'"),
        ("- {id: a, url: https://e.com/a.ics, timezone: Mars/Base}", "sources[0].timezone", "Mars/Base"),
        ("{id: a}", "sources", "must be a list"),
    ],
)
def test_a_bad_source_is_one_error_at_its_key(tmp_path: Path, text: str, path: str, words: str) -> None:
    found = [i for i in issues(tmp_path, text) if i.severity == "error"]
    assert [i.path for i in found] == [path], found
    assert words in found[0].message
    assert found[0].line >= 7  # "sources:" is on line 7


def test_a_duplicate_source_id_names_the_first_line(tmp_path: Path) -> None:
    (issue,) = issues(tmp_path, "- {id: a, url: https://e.com/a.ics}\n- {id: a, url: https://e.com/b.ics}\n")
    assert issue.path == "sources[1].id"
    assert "first on line 8" in issue.message


def test_a_feed_event_id_names_its_source() -> None:
    assert source_of("holidays:abc@google.com@20251110") == "holidays"
    assert source_of("truce-expiry") is None


def test_a_path_that_is_not_a_file_yet_is_a_warning(tmp_path: Path) -> None:
    calendar, warnings = load_calendar(write(tmp_path, "- {id: local, path: missing.ics}"), environ={})
    assert [w.path for w in warnings] == ["sources[0].path"]
    assert "not a file here yet" in warnings[0].message
    assert calendar.sources[0].path == str(tmp_path / "missing.ics")


def test_a_business_day_reminder_needs_the_files_working_days(tmp_path: Path) -> None:
    found = issues(tmp_path, "- {id: desk, url: https://calendar.example.com/desk.ics, reminders: [3bd]}\n")
    assert [(i.line, i.path) for i in found] == [(8, "sources[0].reminders")]
    assert "'3bd' counts business days and needs a working-day calendar" in found[0].message


def test_a_business_day_reminder_loads_with_working_days(tmp_path: Path) -> None:
    path = write(tmp_path, "- {id: desk, url: https://calendar.example.com/desk.ics, reminders: [3bd]}\n")
    path.write_text(path.read_text(encoding="utf-8").replace("version: 1\n", "version: 1\nworkdays: {country: US}\n"))
    calendar, _ = load_calendar(path, environ={})
    assert [o.text for o in calendar.sources[0].reminders] == ["3bd"]
