"""The options every channel takes beside its type's own: ``locale``, ``quiet_hours``, ``rate_limit``, ``templates``.

Each checker turns the YAML value into what the messages and delivery layers use, or records a ``file:line`` issue
and returns None. The values' meaning lives with their users (:mod:`alertd.delivery.quiet`,
:mod:`alertd.delivery.ratelimit`, :mod:`alertd.messages.templates`); only their validation lives here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from alertd import messages
from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath, dotted
from alertd.domain import KINDS, ChannelSpec, QuietHours, RateLimit
from alertd.errors import CalendarIssue

__all__ = ["check_locale", "check_quiet_hours", "check_rate_limit", "check_templates"]

# The messages names are read at use (``messages.X``): locales load babel and templates Jinja2, which a calendar
# without locales or templates should not pay for.
_QUIET_EXAMPLE = '{from: "22:00", to: "07:00"}'
_RATE_EXAMPLE = "{per_second: 1, burst: 3} (or per_minute: 20)"
_TEMPLATES_EXAMPLE = '{reminder: {title: "{{ event.title }}: {{ countdown.text }}"}}'


def check_locale(ck: Checker, value: Any, path: KeyPath) -> str | None:
    """A shipped locale name, or an error suggesting the closest one (``zh-CN`` → ``zh``)."""
    if isinstance(value, str) and value in messages.LOCALES:
        return value
    text = str(value)
    language = re.split(r"[-_]", text, maxsplit=1)[0].lower()
    hint = f"(did you mean {language!r}?)" if language in messages.LOCALES else suggest(text, messages.LOCALES)
    ck.error(path, f"unknown locale {value!r} {hint}")
    return None


def check_quiet_hours(ck: Checker, raw: Any, path: KeyPath) -> QuietHours | None:
    """Validate ``quiet_hours: {from: "22:00", to: "07:00"}``; None (and an issue) when it is wrong."""
    m = ck.mapping(raw, path, _QUIET_EXAMPLE)
    if m is None:
        return None
    errors = ck.error_count
    ck.keys(m, path, ("from", "to"), ("from", "to"))
    start = ck.clock(m["from"], (*path, "from")) if "from" in m else None
    end = ck.clock(m["to"], (*path, "to")) if "to" in m else None
    if start is not None and end is not None and start == end:
        ck.error(path, f"'from' and 'to' are both {start:%H:%M}: an empty window; remove quiet_hours or widen it")
    if ck.error_count > errors or start is None or end is None:
        return None
    return QuietHours(start=start, end=end)


def check_rate_limit(ck: Checker, raw: Any, path: KeyPath) -> RateLimit | None:
    """Validate ``rate_limit: {per_second: 1, burst: 3}`` (or ``per_minute``); None (and an issue) when wrong."""
    m = ck.mapping(raw, path, _RATE_EXAMPLE)
    if m is None:
        return None
    errors = ck.error_count
    ck.keys(m, path, ("per_second", "per_minute", "burst"), ())
    rates = [k for k in ("per_second", "per_minute") if k in m]
    if len(rates) != 1:
        ck.error(path, f"give exactly one of 'per_second' or 'per_minute', e.g. {_RATE_EXAMPLE}")
        return None
    key = rates[0]
    value = m[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 or math.isinf(value):
        ck.error((*path, key), f"must be a positive number, e.g. {key}: 1")
        return None
    burst = m.get("burst", 1)
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        ck.error((*path, "burst"), "must be a whole number of messages, at least 1, e.g. burst: 3")
        return None
    if ck.error_count > errors:
        return None
    return RateLimit(per_second=float(value) if key == "per_second" else value / 60.0, burst=burst)


def _line_of(ck: Checker, path: KeyPath, source: str, template_line: int) -> int:
    # A multi-line template is a YAML block scalar (``text: |``) whose first line is the one after the key.
    key_line = ck.line(path)
    return key_line + template_line if "\n" in source.rstrip("\n") else key_line


def _first_line_naming(source: str, name: str) -> int:
    for number, line in enumerate(source.splitlines(), start=1):
        if name in line:
            return number
    return 1


def _check_one(ck: Checker, source: str, path: KeyPath, sample: Mapping[str, Any]) -> bool:
    def error(template_line: int, message: str) -> None:
        line = _line_of(ck, path, source, template_line)
        ck.issues.append(CalendarIssue(ck.file, line, dotted(path), message))

    syntax = messages.syntax_problem(source)
    if syntax is not None:
        error(syntax[0], f"template syntax error: {syntax[1]}; see docs/messages.md")
        return False
    unknown = messages.unknown_variables(source)
    for name in unknown:
        hint = suggest(name, messages.VARIABLES)
        error(_first_line_naming(source, name), f"unknown template variable {name!r} {hint}")
    if unknown:
        return False
    cause = messages.trial_problem(source, sample)
    if cause is not None:
        error(1, f"template fails on a sample message: {cause}; see docs/messages.md for the variables of each kind")
        return False
    return True


def check_templates(ck: Checker, raw: Any, path: KeyPath, channel: ChannelSpec) -> dict[str, dict[str, str]] | None:
    """Validated ``templates:`` of ``channel`` (kind → part → source), or None after recording its errors."""
    m = ck.mapping(raw, path, _TEMPLATES_EXAMPLE)
    if m is None:
        return None
    found: dict[str, dict[str, str]] = {}
    ok = True
    for kind, parts in m.items():
        if kind not in KINDS:
            ck.error((*path, kind), f"unknown message kind {kind!r} {suggest(kind, KINDS)}")
            ok = False
            continue
        pm = ck.mapping(parts, (*path, kind), _TEMPLATES_EXAMPLE)
        if pm is None:
            ok = False
            continue
        sample = messages.template_context(messages.sample_message(kind, channel))
        found[kind] = {}
        for part, source in pm.items():
            where = (*path, kind, part)
            if part not in messages.PARTS:
                ck.error(where, f"unknown template part {part!r} {suggest(part, messages.PARTS)}")
                ok = False
            elif ck.text(source, where, nonempty=True) is None or not _check_one(ck, source, where, sample):
                ok = False
            else:
                found[kind][part] = source
    return found if ok else None
