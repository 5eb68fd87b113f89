"""Per-key checks for the calendar loader: each check records an issue and returns None instead of raising,
so one pass reports every problem in the file."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Any

from alertd.calendar.yamlsrc import KeyPath, YamlDoc, dotted
from alertd.environ import setting_names
from alertd.errors import CalendarIssue
from alertd.timeexpr import Offset, ZoneError, parse_clock_time, parse_offset, zone

__all__ = ["Checker", "interpolate", "suggest"]

_VAR = re.compile(r"\$(\$?)\{([^}]*)\}")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Pieces of a hidden value that are hidden on their own too, should a message quote only part of it (a URL's host).
_PIECE = re.compile(r"[^\s/:@?&=#'\"]{6,}")


def suggest(word: str, choices: Collection[str]) -> str:
    """A ``(did you mean 'x'?)`` hint, or the list of valid choices when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"(did you mean {close[0]!r}?)"
    # A key with a line break (or other unprintable text) is quoted, so the message stays on one line.
    shown = (c if c.isprintable() else repr(c) for c in sorted(choices))
    return f"(expected one of: {', '.join(shown)})" if choices else ""


_FIXED = "a fixed offset all year that never follows daylight saving time; write a place, e.g. "
# The zone names that are abbreviations with a fixed offset (the example calendar says never to use them) and what
# to write instead. The other old names (CET, EST5EDT…) are aliases of a place since tzdata 2024b and follow its
# daylight saving time.
_ABBREVIATIONS = {
    "EST": _FIXED + "America/New_York or America/Panama",
    "MST": _FIXED + "America/Denver or America/Phoenix",
    "HST": _FIXED + "Pacific/Honolulu",
}


class Checker:
    """Collects issues for one calendar file and validates values at key paths."""

    def __init__(self, file: str, doc: YamlDoc, *, secrets: bool = True, secrets_dir: Path | None = None) -> None:
        self.file = file
        self.doc = doc
        # False for read-only commands: a channel's secrets (``${VAR}``, ``*_file``) may be missing, its other
        # settings (zone, locale, templates) are still checked.
        self.secrets = secrets
        # ALERTD_SECRETS_DIR: where ``*_file`` keys may read from (None: anywhere the process can read).
        self.secrets_dir = secrets_dir
        # Values that came from ${VAR} or a ``*_file``, with what to show instead: no message may quote them.
        self.hidden: dict[str, str] = {}
        self.issues: list[CalendarIssue] = list(doc.issues)
        # Values still holding a ${VAR} that could not be resolved: their one error is the missing variable,
        # not a second "invalid URL" about the placeholder text.
        self.unresolved: set[KeyPath] = set()

    def line(self, path: KeyPath) -> int:
        return self.doc.line(path)

    def hide(self, value: str, shown: str) -> None:
        """Never quote ``value`` in any issue of this file: show ``shown`` (``<value of ${NAME}>``) instead."""
        if value.strip():
            self.hidden.setdefault(value, shown)

    def redacted(self) -> list[CalendarIssue]:
        """Every issue so far, sorted by line, with each hidden value (and its longer pieces) replaced."""
        swaps: dict[str, str] = {}
        for value, shown in self.hidden.items():
            for piece in _PIECE.findall(value):
                swaps.setdefault(piece, shown)
            swaps[value] = shown
            swaps[repr(value)] = shown
            swaps[repr(value)[1:-1]] = shown
        ordered = sorted((s for s in swaps if s), key=len, reverse=True)

        def clean(text: str) -> str:
            for secret in ordered:
                text = text.replace(secret, swaps[secret])
            return text

        issues = [replace(i, message=clean(i.message), path=clean(i.path)) for i in self.issues]
        return sorted(issues, key=lambda i: i.line)

    def error(self, path: KeyPath, message: str, *, of_key: bool = False) -> None:
        # An unresolved ${VAR} already has its one error; a problem with the key itself (unknown) is a second one.
        if not of_key and any(path[: len(u)] == u for u in self.unresolved):
            return
        self.issues.append(CalendarIssue(self.file, self.line(path), dotted(path), message))

    def warn(self, path: KeyPath, message: str) -> None:
        self.issues.append(CalendarIssue(self.file, self.line(path), dotted(path), message, "warning"))

    @property
    def error_count(self) -> int:
        return sum(i.severity == "error" for i in self.issues)

    def mapping(self, value: Any, path: KeyPath, example: str) -> dict[str, Any] | None:
        """``value`` if it is a mapping (None counts as empty), else an error showing ``example``."""
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self.error(path, f"must be a mapping of keys to values, e.g. {example}")
        return None

    def keys(self, m: Mapping[str, Any], path: KeyPath, allowed: Collection[str], required: Collection[str]) -> None:
        for key in m:
            if key not in allowed:
                self.error((*path, key), f"unknown key {key!r} {suggest(key, allowed)}", of_key=True)
        for key in required:
            if key not in m:
                self.error(path, f"missing required key {key!r}")

    def text(self, value: Any, path: KeyPath, *, nonempty: bool = False) -> str | None:
        if isinstance(value, str) and (value.strip() or not nonempty):
            return value
        self.error(path, "must be non-empty text" if nonempty else "must be text; quote it if needed")
        return None

    def text_list(self, value: Any, path: KeyPath, example: str) -> tuple[str, ...] | None:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(path, f"must be a list, e.g. {example}")
            return None
        items = [self.text(v, (*path, i), nonempty=True) for i, v in enumerate(value)]
        return None if any(v is None for v in items) else tuple(v for v in items if v is not None)

    def boolean(self, value: Any, path: KeyPath) -> bool | None:
        if isinstance(value, bool):
            return value
        self.error(path, "must be true or false")
        return None

    def offsets(self, value: Any, path: KeyPath) -> tuple[Offset, ...] | None:
        if not isinstance(value, list):
            self.error(path, "must be a list of offsets, e.g. [7d, 1d, 2h, 0m] ([] for none)")
            return None
        found: list[Offset] = []
        for i, item in enumerate(value):
            offset = self.offset(item, (*path, i))
            if offset is not None:
                found.append(offset)
        # The same offset twice would plan the same notification twice; keep the first.
        return tuple(dict.fromkeys(found)) if len(found) == len(value) else None

    def offset(self, value: Any, path: KeyPath) -> Offset | None:
        if isinstance(value, dict | list) or value is None:
            self.error(path, "must be an offset such as 7d, 2h, 0m or +1d")
            return None
        try:
            return parse_offset(str(value))
        except ValueError as exc:
            self.error(path, str(exc))
            return None

    def clock(self, value: Any, path: KeyPath) -> time | None:
        try:
            return parse_clock_time(value if isinstance(value, str) else repr(value))
        except ValueError as exc:
            self.error(path, str(exc))
            return None

    def zone_name(self, value: Any, path: KeyPath) -> str | None:
        try:
            zone(value if isinstance(value, str) else repr(value))
        except ZoneError as exc:
            self.error(path, str(exc))
            return None
        assert isinstance(value, str)
        if value in _ABBREVIATIONS:
            self.warn(path, f"{value} is a legacy abbreviation zone, not a place: {_ABBREVIATIONS[value]}")
        return value


def interpolate(value: Any, path: KeyPath, environ: Mapping[str, str], ck: Checker) -> Any:
    """Replace ``${VAR}`` in every string value (``$${VAR}`` stays a literal ``${VAR}``)."""
    if isinstance(value, dict):
        return {k: interpolate(v, (*path, k), environ, ck) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, (*path, i), environ, ck) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    failed = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal failed
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        if name in setting_names():
            ck.error(
                path,
                f"${{{name}}} is one of alertd's own settings and is never readable from the calendar; "
                "give the calendar its own variable",
            )
        elif name in environ and _VAR_NAME.match(name):
            ck.hide(environ[name], f"<value of ${{{name}}}>")
            return environ[name]
        elif not _VAR_NAME.match(name):
            ck.error(path, f"bad variable reference ${{{name}}}: write ${{NAME}} (or $${{...}} for a literal)")
        elif ck.secrets:
            ck.error(path, f"environment variable {name} is not set: set {name} in the environment or .env")
        failed = True
        return match.group(0)

    result = _VAR.sub(substitute, value)
    if failed:
        ck.unresolved.add(path)
    return result
