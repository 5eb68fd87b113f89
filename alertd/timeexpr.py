"""Offsets, RFC 5545 time arithmetic, and the one time-zone database every zone lookup uses.

``Nw``/``Nd`` are nominal (the same wall-clock time N weeks/days earlier in the event's zone); ``Nh``/``Nm``/``Ns``
are exact elapsed time. A leading ``+`` or ``-`` means *after* the start (a follow-up). Parts may be combined,
largest first: ``1d12h``. ``Nbd`` counts business days (alertd.workdays) and takes the place of ``w``/``d``
(``3bd``, ``+2bd``, ``3bd12h``); it is resolved per event into nominal days (:meth:`Offset.resolved`).
A computed local time that falls in a DST gap is read with the UTC offset from before the gap, and one in a DST
fold resolves to its first occurrence (RFC 5545 §3.3.5); Python's ``fold=0`` does both.
A time a person wrote with an offset is an exact instant and keeps it: :func:`shift` starts from that instant.

Zones come from one database, chosen once (:func:`use_tzdata`, ``ALERTD_TZDATA``): the ``tzdata`` package pinned
with alertd (the default: the same rules on every machine) or the system's zone files. zoneinfo alone would take
the system's files when present and the package otherwise, so two machines could plan one event differently.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "TZDATA_SOURCES",
    "Offset",
    "TzDatabase",
    "ZoneError",
    "apply_offset",
    "day_end",
    "day_start",
    "is_ambiguous",
    "is_nonexistent",
    "localize",
    "parse_clock_time",
    "parse_offset",
    "parse_stored_offset",
    "shift",
    "tzdata",
    "use_tzdata",
    "wall_clock",
    "zone",
]

_OFFSET = re.compile(
    r"^(?P<sign>[+-]?)(?:(?P<w>\d+)w)?(?:(?P<bd>\d+)bd)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)
# How storage keeps a resolved business-day offset: its text and the nominal days it came to (``3bd=5d``).
_STORED = re.compile(r"^(?P<text>[^=]+)=(?P<days>\d{1,5})d$")
_CLOCK = re.compile(r"^(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)$")
# Ten years either way is far beyond any reminder and keeps date arithmetic inside datetime's range.
_MAX_DAYS = 3660


class ZoneError(ValueError):
    """A time zone name is not in the IANA database (or the database itself cannot be used)."""


TZDATA_SOURCES = ("package", "system")


@dataclass(frozen=True, slots=True)
class TzDatabase:
    """The zone database in use: ``package`` (the ``tzdata`` wheel) or ``system``, and its IANA version."""

    source: str
    version: str
    # The folder of the system's zone files; None for the package.
    folder: str | None = None

    def __str__(self) -> str:
        return f"tzdata {self.version} ({self.source})"


_database: TzDatabase | None = None


def _system_folder() -> str | None:
    """The first folder of zoneinfo's default search path that holds zone files."""
    zoneinfo.reset_tzpath()
    for folder in zoneinfo.TZPATH:
        if os.path.isfile(os.path.join(folder, "UTC")):
            return folder
    return None


def _system_version(folder: str) -> str:
    # The compiled database's source (tzdata.zi) starts with "# version 2025b"; some systems also ship +VERSION.
    for name, prefix in (("tzdata.zi", "# version "), ("+VERSION", "")):
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                first = handle.readline(64).strip()
        except (OSError, UnicodeDecodeError):
            continue
        if first.startswith(prefix) and first[len(prefix) :]:
            return first[len(prefix) :].strip()
    return "unknown"


def use_tzdata(source: str = "package") -> TzDatabase:
    """Make every zone lookup of this process use ``source`` (``package`` or ``system``); return what is in use.

    Raises ZoneError with the fix when the chosen database is not there.
    """
    global _database
    if source == "package":
        try:
            import tzdata as package
        except ImportError:
            raise ZoneError(
                "the tzdata package is missing: reinstall alertd, or set ALERTD_TZDATA=system to use the system's"
            ) from None
        # An empty search path leaves zoneinfo only the package.
        zoneinfo.reset_tzpath(to=[])
        chosen = TzDatabase("package", str(package.IANA_VERSION))
    elif source == "system":
        folder = _system_folder()
        if folder is None:
            raise ZoneError(
                f"ALERTD_TZDATA=system, but no zone files were found in {', '.join(zoneinfo.TZPATH) or 'any folder'}: "
                "install the system's tzdata, or set ALERTD_TZDATA=package"
            )
        zoneinfo.reset_tzpath(to=[folder])
        chosen = TzDatabase("system", _system_version(folder), folder)
    else:
        raise ZoneError(f"unknown time zone database {source!r}: use one of {', '.join(TZDATA_SOURCES)}")
    # Zones already built came from the previous search path.
    ZoneInfo.clear_cache()
    zone.cache_clear()
    _database = chosen
    return chosen


def tzdata() -> TzDatabase:
    """The zone database in use (the package, unless :func:`use_tzdata` chose otherwise)."""
    return _database if _database is not None else use_tzdata()


@dataclass(frozen=True, slots=True)
class Offset:
    """A reminder offset: ``days`` nominal days plus ``seconds`` exact seconds, before or ``after`` the start."""

    text: str
    days: int
    seconds: int
    after: bool
    # Business days as written (``3bd``); ``days`` is then what they come to for one event, 0 until resolved.
    business_days: int = 0

    @property
    def is_zero(self) -> bool:
        return self.days == 0 and self.seconds == 0 and self.business_days == 0

    @property
    def unresolved(self) -> bool:
        """A business-day offset not yet counted against an event's working-day calendar."""
        return self.business_days > 0 and self.days == 0

    @property
    def stored(self) -> str:
        """The text storage keeps: a resolved business-day offset carries its nominal days (``3bd=5d``)."""
        return f"{self.text}={self.days}d" if self.business_days and self.days else self.text

    def resolved(self, days: int) -> Offset:
        """This business-day offset once it came to ``days`` nominal days for one event."""
        if days > _MAX_DAYS:
            raise ValueError(f"offset {self.text!r} reaches further than {_MAX_DAYS} days")
        return Offset(self.text, days, self.seconds, self.after, self.business_days)


def parse_offset(text: str) -> Offset:
    """Parse ``7d``, ``2h``, ``0m``, ``+1d``, ``1w``, ``1d12h``, ``3bd``; raise ValueError with the fix otherwise."""
    raw = text.strip()
    match = _OFFSET.match(raw)
    units = ("w", "bd", "d", "h", "m", "s")
    if not raw or match is None or not any(match.group(k) for k in units):
        raise ValueError(
            f"bad offset {text!r}: write a number and a unit (w, d, bd, h, m, s), e.g. 7d, 2h, 0m, 3bd, "
            "or +1d for after"
        )
    if any(len((match.group(k) or "").lstrip("0")) > 9 for k in units):
        # Far past the limit below, and int() refuses strings of more than 4300 digits with its own message.
        raise ValueError(f"offset {text!r} is longer than {_MAX_DAYS} days")
    parts = {k: int(match.group(k) or 0) for k in units}
    days = parts["w"] * 7 + parts["d"]
    seconds = parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    if match.group("bd") is not None:
        # Business days and calendar days in one offset would leave their order to guess.
        if match.group("w") or match.group("d"):
            raise ValueError(f"bad offset {text!r}: combine business days only with h, m, s, e.g. 3bd or 3bd12h")
        if not parts["bd"]:
            raise ValueError(f"bad offset {text!r}: count at least one business day, or write 0m for the start")
    if days + parts["bd"] + seconds // 86400 > _MAX_DAYS:
        raise ValueError(f"offset {text!r} is longer than {_MAX_DAYS} days")
    after = match.group("sign") in {"+", "-"}
    return Offset(text=raw, days=days, seconds=seconds, after=after, business_days=parts["bd"])


def parse_stored_offset(text: str) -> Offset:
    """An offset as storage keeps it (:attr:`Offset.stored`): ``3bd=5d`` comes back resolved to 5 days."""
    match = _STORED.match(text)
    if match is None:
        return parse_offset(text)
    offset = parse_offset(match.group("text"))
    return offset.resolved(int(match.group("days"))) if offset.business_days else offset


def parse_clock_time(text: str) -> time:
    """Parse a wall-clock ``HH:MM``."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"bad time of day {text!r}: write HH:MM, e.g. 09:00")
    return time(int(match.group("h")), int(match.group("m")))


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name`` from the database in use, or raise ZoneError naming it."""
    # Cached (errors are not): rendering one message looks its zones up several times.
    database = tzdata()
    try:
        if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
            raise ZoneInfoNotFoundError(name)
        if database.folder is not None and not Path(database.folder, name).is_file():
            # zoneinfo would quietly fall back to the package for a zone the system lacks: one database only.
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ZoneError(f"unknown time zone {name!r}: use an IANA name such as America/New_York") from None


def is_nonexistent(local: datetime, tz: ZoneInfo) -> bool:
    """True when the naive wall-clock ``local`` does not exist in ``tz`` (a DST gap)."""
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None, fold=0)
    return back != local.replace(fold=0)


def is_ambiguous(local: datetime, tz: ZoneInfo) -> bool:
    """True when the naive wall-clock ``local`` happens twice in ``tz`` (a DST fold)."""
    if is_nonexistent(local, tz):
        return False
    first = local.replace(tzinfo=tz, fold=0).utcoffset()
    second = local.replace(tzinfo=tz, fold=1).utcoffset()
    return first != second


def localize(local: datetime, tz: ZoneInfo) -> datetime:
    """Turn a computed naive wall-clock time into an aware UTC instant following RFC 5545 §3.3.5."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def wall_clock(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time ``instant`` shows in ``tz``; ``fold=1`` marks the second run of a repeated hour."""
    return instant.astimezone(tz).replace(tzinfo=None)


def apply_offset(anchor_local: datetime, tz: ZoneInfo, offset: Offset) -> datetime:
    """The UTC instant ``offset`` before (or after) the computed wall-clock ``anchor_local`` in ``tz``.

    The nominal part moves the wall-clock date; the exact part then moves the resulting instant.
    """
    sign = 1 if offset.after else -1
    wall = anchor_local + timedelta(days=sign * offset.days)
    instant = localize(wall, tz)
    return instant + timedelta(seconds=sign * offset.seconds)


def shift(start: datetime, tz: ZoneInfo, offset: Offset) -> datetime:
    """The UTC instant ``offset`` before (or after) the exact instant ``start``, an event's start in ``tz``.

    Without a nominal part the start's own instant is kept, so the second 01:30 of a fall-back night stays the
    second. Nominal days move the start's wall clock to another day, where RFC 5545 resolves it afresh.
    """
    sign = 1 if offset.after else -1
    instant = start.astimezone(UTC)
    if offset.days:
        instant = localize(wall_clock(start, tz) + timedelta(days=sign * offset.days), tz)
    return instant + timedelta(seconds=sign * offset.seconds)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz``: its first instant (RFC 5545's start of a DATE).

    That is local midnight, or its first run when midnight repeats; when clocks jump over midnight (Santiago,
    Havana, Cairo and others start DST there) the day begins at the jump. ValueError when the zone skipped the
    whole day (Pacific/Apia, 2011-12-30).
    """
    midnight = datetime.combine(day, time(0, 0))
    first = localize(midnight, tz)
    if not is_nonexistent(midnight, tz):
        return first
    # Between the instant read with the offset after the jump (still the day before) and the one read with the
    # offset before it (already this day) lies the jump: bisect in whole seconds (zone changes fall on whole
    # seconds) for the first instant of ``day``.
    lo, hi = midnight.replace(tzinfo=tz, fold=1).astimezone(UTC), first
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
        lo, hi = (lo, mid) if mid.astimezone(tz).date() >= day else (mid, hi)
    if hi.astimezone(tz).date() != day:
        raise ValueError(f"{day.isoformat()} does not exist in {tz.key} (the zone skipped that day)")
    return hi


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` ends in ``tz`` (the next existing day's start)."""
    following = day + timedelta(days=1)
    for _ in range(3):
        try:
            return day_start(following, tz)
        except ValueError:
            following += timedelta(days=1)
    raise ValueError(f"no day after {day.isoformat()} in {tz.key}")
