"""Reloads of one calendar file hand back the previous load's event objects for the entries that did not change.

An event's entry (as read, after ``${VAR}``\\ s and ``<<`` merges) and the calendar-wide inputs its check takes (the
file's zone, defaults with routes and working days, declared channels) determine the event completely, so an
unchanged one need not be checked again, and the object keeps its fingerprint (``EventSpec.memo_fingerprint``): a
reload that edits one event of 100k digests one. Only one-off events that loaded without any issue are kept (a
warning names a line, which moves as the file is edited); any change of the calendar-wide inputs rebuilds every
event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from alertd.domain import EventSpec

__all__ = ["EventReuse", "ReuseRound"]


class EventReuse:
    """What a daemon keeps between loads of its calendar file; one load at a time uses it.

    ``reused`` is how many events the last successful load took from the one before.
    """

    def __init__(self) -> None:
        self._context: tuple[Any, ...] | None = None
        self._events: dict[bytes, EventSpec] = {}
        self.reused = 0

    def begin(self, context: tuple[Any, ...]) -> ReuseRound:
        """A load's use of the previous one, whose events count only if ``context`` compares equal to its own."""
        previous = self._events if self._context is not None and self._context == context else {}
        return ReuseRound(self, context, previous)

    def _commit(self, context: tuple[Any, ...], events: dict[bytes, EventSpec], reused: int) -> None:
        self._context, self._events, self.reused = context, events, reused


class ReuseRound:
    """One load: looks entries up in the previous load's events and collects this one's for the next."""

    def __init__(self, owner: EventReuse, context: tuple[Any, ...], previous: Mapping[bytes, EventSpec]) -> None:
        self._owner, self._context, self._previous = owner, context, previous
        self._kept: dict[bytes, EventSpec] = {}
        self.reused = 0

    @staticmethod
    def key(entry: Mapping[str, Any]) -> bytes:
        """A digest of the entry's text, types and key order included (``repr`` tells ``1`` from ``true`` and
        ``"1"``, which compare or hash alike)."""
        return hashlib.blake2b(repr(entry).encode(), digest_size=16).digest()

    def get(self, key: bytes) -> EventSpec | None:
        """The previous load's event for an identical entry, kept for the next load too."""
        event = self._previous.get(key)
        if event is not None:
            self._kept[key] = event
            self.reused += 1
        return event

    def keep(self, key: bytes, event: EventSpec) -> None:
        """An event this load built from its entry without any issue."""
        self._kept[key] = event

    def commit(self) -> None:
        """The load succeeded: its events are what the next load may reuse (a failed load leaves the last good)."""
        self._owner._commit(self._context, self._kept, self.reused)
