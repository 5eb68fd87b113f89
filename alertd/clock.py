"""The only place alertd reads the wall clock.

Every component takes a :class:`Clock`; tests pass a :class:`FixedClock`, ``alertd run --replay-from`` passes a
:class:`ReplayClock` that starts at a chosen instant and runs ``speed`` times faster than real time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

import orjson

__all__ = ["Clock", "FixedClock", "ReplayClock", "SystemClock", "utc", "utc_text", "wall_now"]


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_UTC_TEXT = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS


def utc_text(value: datetime) -> str:
    """``value`` as ISO 8601 UTC with ``Z`` and whole seconds (``2025-11-10T05:00:00Z``), as payloads show it."""
    moment = value if value.tzinfo is UTC else utc(value)
    # orjson writes it a quarter as fast as isoformat and slicing; every webhook payload holds three.
    return orjson.dumps(moment, option=_UTC_TEXT)[1:-1].decode()


class Clock(Protocol):
    """Source of the current instant for every component."""

    @property
    def speed(self) -> float:
        """How many clock seconds pass per real second (1 for the system clock)."""
        ...

    @property
    def label(self) -> str:
        """Empty for real time; a short tag such as ``[replay x600]`` for a virtual clock."""
        ...

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    def real_delay(self, until: datetime) -> float:
        """Real seconds to wait until the clock shows ``until`` (0 when it already has)."""
        ...


class SystemClock:
    """The real wall clock."""

    speed = 1.0
    label = ""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_delay(self, until: datetime) -> float:
        return max(0.0, (until - self.now()).total_seconds())


class ReplayClock:
    """A virtual clock that starts at ``start`` and advances ``speed`` times faster than real time.

    It is driven by the monotonic clock so that a wall-clock step on the host does not move it.
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = utc(start)
        self._speed = float(speed)
        self._origin = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def label(self) -> str:
        return f"[replay x{self._speed:g}]"

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)

    def real_delay(self, until: datetime) -> float:
        return max(0.0, (until - self.now()).total_seconds() / self._speed)


class FixedClock:
    """A clock for tests: it shows ``at`` until moved with :meth:`set` or :meth:`advance`."""

    speed = 1.0
    label = ""

    def __init__(self, at: datetime) -> None:
        self._at = utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = utc(at)

    def advance(self, seconds: float) -> None:
        self._at += timedelta(seconds=seconds)

    def real_delay(self, until: datetime) -> float:
        return max(0.0, (until - self._at).total_seconds())


def wall_now() -> datetime:
    """The real wall clock, for the timer that wakes the daemon (APScheduler runs on wall time)."""
    return datetime.now(UTC)
