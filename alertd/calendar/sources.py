"""The calendar's ``sources:`` section: iCalendar feeds (a URL or a local ``.ics`` file) and their events' defaults.

Each entry is checked like every other key (file:line, one pass); nothing is fetched or read here. A local path is
resolved beside the calendar file, so a calendar and its shipped ``.ics`` move together.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath
from alertd.domain import Defaults, SourceSpec

__all__ = ["DEFAULT_REFRESH", "LOOKBACK", "MAX_SOURCE_ID", "SOURCE_KEYS", "check_sources", "source_of"]

SOURCE_KEYS = (
    "id",
    "url",
    "path",
    "refresh",
    "timezone",
    "notify",
    "reminders",
    "tags",
    "all_day_at",
    "countdown",
)
DEFAULT_REFRESH = timedelta(minutes=15)
# Feed event ids are ``<source>:<uid>@YYYYMMDD``; a short source id leaves the UID room in the 200-character column.
MAX_SOURCE_ID = 40
# How far back a feed's occurrences are read: an event that has just started is still current (its follow-ups,
# today's all-day events); older ones are history and are left as stored.
LOOKBACK = timedelta(days=1)
_MIN_REFRESH = timedelta(minutes=1)
_MAX_REFRESH = timedelta(days=7)
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_EXAMPLE = "[{id: holidays, url: https://example.com/holidays.ics, refresh: 1h}]"


def source_of(event_id: str) -> str | None:
    """The source id of a feed event's id (``holidays:abc@20251110`` → ``holidays``), None for other ids."""
    head, sep, _ = event_id.partition(":")
    return head if sep else None


def check_sources(
    ck: Checker, raw: Any, cal_tz: str, defaults: Defaults, declared: tuple[str, ...], base_dir: Path
) -> tuple[SourceSpec, ...]:
    """Every valid entry of ``sources:``; each problem is recorded on ``ck``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        ck.error(("sources",), f"must be a list of feeds, e.g. {_EXAMPLE}")
        return ()
    found: list[SourceSpec] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        path: KeyPath = ("sources", i)
        spec = _source(ck, path, item, cal_tz, defaults, declared, base_dir)
        if spec is None:
            continue
        if spec.id in seen:
            ck.error((*path, "id"), f"duplicate source id {spec.id!r} (first on line {seen[spec.id]}); rename one")
            continue
        seen[spec.id] = ck.line((*path, "id"))
        found.append(spec)
    return tuple(found)


def _source(
    ck: Checker,
    path: KeyPath,
    raw: Any,
    cal_tz: str,
    defaults: Defaults,
    declared: tuple[str, ...],
    base_dir: Path,
) -> SourceSpec | None:
    m = ck.mapping(raw, path, "{id: holidays, url: https://example.com/holidays.ics}")
    if m is None:
        return None
    ck.keys(m, path, SOURCE_KEYS, ("id",))
    errors = ck.error_count
    sid = ck.text(m["id"], (*path, "id")) if "id" in m else None
    if sid is not None and (not _SOURCE_ID.match(sid) or len(sid) > MAX_SOURCE_ID):
        ck.error((*path, "id"), f"bad source id {sid!r}: use a-z, 0-9 and '-', at most {MAX_SOURCE_ID} characters")
    url, file = _where(ck, path, m, base_dir)
    refresh = _refresh(ck, (*path, "refresh"), m.get("refresh"))
    tz = ck.zone_name(m["timezone"], (*path, "timezone")) if m.get("timezone") is not None else cal_tz
    reminders = ck.offsets(m["reminders"], (*path, "reminders")) if m.get("reminders") is not None else None
    tags = ck.text_list(m["tags"], (*path, "tags"), "[holidays]") if m.get("tags") is not None else ()
    notify = _notify(ck, (*path, "notify"), m.get("notify"), declared)
    all_day_at = ck.clock(m["all_day_at"], (*path, "all_day_at")) if m.get("all_day_at") is not None else None
    countdown = ck.boolean(m["countdown"], (*path, "countdown")) if m.get("countdown") is not None else True
    business = [o for o in (defaults.reminders if reminders is None else reminders) if o.business_days]
    root = ck.doc.data
    # A file whose workdays is invalid has that error already; a second one per feed would bury it.
    if business and defaults.workdays is None and not (isinstance(root, dict) and root.get("workdays") is not None):
        whose = "" if reminders is not None else "the default reminder "
        ck.error(
            (*path, "reminders") if reminders is not None else path,
            f"{whose}{business[0].text!r} counts business days and needs a working-day calendar: add workdays: "
            "{country: US} (your country's code) at the top of the file",
        )
    if ck.error_count > errors or sid is None or tz is None or (url is None and file is None):
        return None
    return SourceSpec(
        id=sid,
        url=url,
        path=file,
        refresh=refresh,
        timezone=tz,
        reminders=defaults.reminders if reminders is None else reminders,
        notify=defaults.notify if notify is None else notify,
        tags=tags or (),
        all_day_at=all_day_at or defaults.all_day_at,
        countdown=countdown is not False,
    )


def _where(ck: Checker, path: KeyPath, m: dict[str, Any], base_dir: Path) -> tuple[str | None, str | None]:
    """The feed's URL or its file, exactly one of them."""
    if ("url" in m) == ("path" in m):
        ck.error(path, "give either 'url' (https://…) or 'path' (an .ics file beside the calendar), not both")
        return None, None
    if "path" in m:
        text = ck.text(m["path"], (*path, "path"), nonempty=True)
        if text is None:
            return None, None
        file = base_dir / text
        if not file.is_file():
            # Not an error: the file may be written later (a sync job); until then the feed counts as failing.
            ck.warn((*path, "path"), f"{text} is not a file here yet; the feed fails until it is")
        return None, str(file)
    text = ck.text(m["url"], (*path, "url"), nonempty=True)
    if text is None:
        return None, None
    url = text.strip()
    if url.lower().startswith("webcal://"):
        # What calendar apps publish for "subscribe": the same resource over https.
        url = "https://" + url[len("webcal://") :]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and url.isprintable() and " " not in url
    except ValueError:
        ok = False
    if not ok:
        # The URL is not quoted: a Google secret address is a credential.
        ck.error((*path, "url"), "must be an https:// (or webcal://) URL of an iCalendar feed")
        return None, None
    return url, None


def _refresh(ck: Checker, path: KeyPath, raw: Any) -> timedelta:
    if raw is None:
        return DEFAULT_REFRESH
    offset = ck.offset(raw, path)
    if offset is None:
        return DEFAULT_REFRESH
    every = timedelta(days=offset.days, seconds=offset.seconds)
    if offset.after or not _MIN_REFRESH <= every <= _MAX_REFRESH:
        ck.error(path, f"bad refresh {offset.text!r}: write an interval from 1m to 7d, e.g. 15m or 1h")
    return every


def _notify(ck: Checker, path: KeyPath, raw: Any, declared: tuple[str, ...]) -> tuple[str, ...] | None:
    if raw is None:
        return None
    ids = ck.text_list(raw, path, "[desk-slack]")
    if ids is None:
        return None
    for i, cid in enumerate(ids):
        if cid not in declared:
            ck.error((*path, i), f"unknown channel {cid!r} {suggest(cid, declared)}; declare it under 'channels'")
    return tuple(dict.fromkeys(ids))
