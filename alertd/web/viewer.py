"""The viewer's language and time zone, from what the browser sends: ``Accept-Language`` and a ``tz`` value.

Both arrive from outside, so both are checked: a language only among alertd's locales, a zone only when the tz
database knows it, and either one bounded in length before it is parsed.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alertd.messages import DEFAULT_LOCALE, LOCALES

__all__ = ["TZ_COOKIE", "pick_locale", "pick_zone"]

TZ_COOKIE = "alertd_tz"
_MAX_HEADER = 512
_MAX_ZONE = 64


def pick_locale(accept_language: str | None) -> str:
    """The first of alertd's locales the header asks for, by quality then order; else the default (English)."""
    if not accept_language:
        return DEFAULT_LOCALE
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language[:_MAX_HEADER].split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        if language in LOCALES and quality > 0:
            wanted.append((-quality, index, language))
    return min(wanted)[2] if wanted else DEFAULT_LOCALE


def pick_zone(*candidates: str | None) -> str | None:
    """The first candidate that names a zone of the tz database (``Europe/Berlin``), or None."""
    for name in candidates:
        if not name or len(name) > _MAX_ZONE or name.startswith(("/", ".")) or ".." in name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
        return name
    return None
