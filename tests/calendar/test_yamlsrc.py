from __future__ import annotations

import textwrap

import pytest

from alertd.calendar.yamlsrc import YamlDoc, dotted, load_yaml
from alertd.errors import CalendarError


def load(text: str) -> YamlDoc:
    return load_yaml(textwrap.dedent(text), file="cal.yaml")


def test_data_is_plain_python() -> None:
    """Mappings, lists and scalars come back as dict, list, int, float, bool, None and str."""
    doc = load(
        """\
        a: 1
        b: 2.5
        c: [true, false, null, ~]
        d: {e: text}
        """
    )
    assert doc.data == {"a": 1, "b": 2.5, "c": [True, False, None, None], "d": {"e": "text"}}
    assert doc.issues == ()


def test_every_key_and_item_has_its_line() -> None:
    """Keys map to the line they are written on and list items to the line they start on."""
    doc = load(
        """\
        version: 1
        events:
          - id: a
            at: 2025-11-10
          - id: b
        """
    )
    assert doc.lines[("version",)] == 1
    assert doc.lines[("events",)] == 2
    assert doc.lines[("events", 0)] == 3
    assert doc.lines[("events", 0, "at")] == 4
    assert doc.lines[("events", 1, "id")] == 5


def test_line_falls_back_to_the_nearest_ancestor() -> None:
    """A path that was never written resolves to its closest written parent."""
    doc = load(
        """\
        x: 1
        channels:
          desk: {type: slack}
        """
    )
    assert doc.line(("channels", "desk", "url")) == 3
    assert doc.line(("nowhere",)) == 1


def test_duplicate_keys_are_reported_at_the_second() -> None:
    """A repeated key is an issue on the line of the second one, naming the first's line."""
    doc = load(
        """\
        a: 1
        b: 2
        a: 3
        """
    )
    assert doc.data == {"a": 1, "b": 2}
    [issue] = doc.issues
    assert (issue.line, issue.path) == (3, "a")
    assert "first on line 1" in issue.message


def test_timestamps_stay_as_written() -> None:
    """YAML dates and datetimes are not converted, so the calendar parses them with its own rules."""
    doc = load(
        """\
        - 2025-11-10
        - 2025-11-10T00:01
        - 2025-11-10T00:01:00-05:00
        - 2025-11-10 00:01:00
        """
    )
    assert doc.data == ["2025-11-10", "2025-11-10T00:01", "2025-11-10T00:01:00-05:00", "2025-11-10 00:01:00"]


def test_sexagesimal_numbers_stay_text() -> None:
    """YAML 1.1 reads ``9:30`` as 570; it stays the time of day the user meant."""
    assert load("at: 9:30\n").data == {"at": "9:30"}


def test_keys_are_kept_as_written() -> None:
    """Keys like ``on`` or ``1`` stay text instead of becoming a boolean or an integer."""
    assert load("on: 1\n2: x\n").data == {"on": 1, "2": "x"}


def test_anchors_and_aliases_expand() -> None:
    """An alias repeats the anchored value, with lines pointing at the anchor."""
    doc = load(
        """\
        base: &r [7d, 1d]
        other: *r
        """
    )
    assert doc.data == {"base": ["7d", "1d"], "other": ["7d", "1d"]}


def test_merge_keys_fill_in_without_overriding() -> None:
    """``<<: *base`` adds the anchored keys the mapping does not set itself, without duplicate errors."""
    doc = load(
        """\
        base: &b {type: slack, locale: en}
        desk: {<<: *b, locale: zh}
        """
    )
    assert doc.data["desk"] == {"type": "slack", "locale": "zh"}
    assert doc.issues == ()


def test_recursive_alias_is_an_issue() -> None:
    """A value that contains itself through an alias is reported, not expanded forever."""
    doc = load("a: &x [1, *x]\n")
    assert any("loop" in i.message for i in doc.issues)


def test_alias_bombs_are_refused() -> None:
    """Nested aliases that would expand into millions of values raise CalendarError."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(CalendarError, match="expands"):
        load_yaml("\n".join(lines) + "\n", file="cal.yaml")


def test_unknown_tags_are_issues() -> None:
    """A custom tag is reported and the value kept as text."""
    doc = load("a: !env HOME\n")
    assert doc.data == {"a": "HOME"}
    assert "unsupported YAML tag" in doc.issues[0].message


def test_syntax_error_raises_with_its_line() -> None:
    """Broken YAML raises CalendarError whose issue names the line of the problem."""
    with pytest.raises(CalendarError) as info:
        load(
            """\
            version: 1
            events:
              - id: a
                title: "unterminated
            """
        )
    [issue] = info.value.issues
    assert issue.file == "cal.yaml"
    assert issue.line >= 4
    assert "YAML syntax error" in issue.message


def test_empty_text_is_none() -> None:
    """An empty document loads as None with no issues."""
    doc = load("# only a comment\n")
    assert doc.data is None
    assert doc.issues == ()


def test_dotted_paths() -> None:
    """Key paths print as ``events[2].at`` and ``channels.desk.url``."""
    assert dotted(("events", 2, "at")) == "events[2].at"
    assert dotted(("channels", "desk", "url")) == "channels.desk.url"
    assert dotted(()) == ""
