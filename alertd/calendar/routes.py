"""Tag routes: the calendar's top-level ``routes`` send matching events to extra channels.

An event notifies the union of its own ``notify`` (or ``defaults.notify`` when it has none) and the ``notify`` of
every route it matches. A route's ``match`` may name ``tags`` (the event has at least one of them) and ``status``
(the event is in one of them); with both keys, both must hold. Routes are resolved when an event is loaded, so the
planner, the change notices and the sync fingerprint all see one final channel list, and editing a route re-plans
exactly the events whose channel list changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath
from alertd.domain import EVENT_STATUSES, Route

__all__ = ["ROUTE_KEYS", "check_routes", "matches", "resolve_notify"]

ROUTE_KEYS = ("match", "notify")
_MATCH_KEYS = ("tags", "status")
_EXAMPLE = "[{match: {tags: [trade]}, notify: [desk-mail]}]"


def matches(route: Route, tags: Iterable[str], status: str) -> bool:
    """Whether an event with ``tags`` and ``status`` is matched by ``route`` (an empty match never is)."""
    if not route.tags and not route.status:
        return False
    if route.tags and not set(route.tags) & set(tags):
        return False
    return not route.status or status in route.status


def resolve_notify(own: Iterable[str], routes: Iterable[Route], tags: Iterable[str], status: str) -> tuple[str, ...]:
    """``own`` channels first, then each matching route's channels, without duplicates (order kept)."""
    tag_list = tuple(tags)
    extra = [c for r in routes if matches(r, tag_list, status) for c in r.notify]
    return tuple(dict.fromkeys([*own, *extra]))


def check_routes(ck: Checker, raw: Any, declared: tuple[str, ...]) -> tuple[Route, ...]:
    """Validate the ``routes`` list; each bad entry is reported with its line and left out."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        ck.error(("routes",), f"must be a list of routes, e.g. {_EXAMPLE}")
        return ()
    routes = [_route(ck, ("routes", i), item, declared) for i, item in enumerate(raw)]
    return tuple(r for r in routes if r is not None)


def _route(ck: Checker, path: KeyPath, raw: Any, declared: tuple[str, ...]) -> Route | None:
    m = ck.mapping(raw, path, "{match: {tags: [trade]}, notify: [desk-mail]}")
    if m is None:
        return None
    errors = ck.error_count
    ck.keys(m, path, ROUTE_KEYS, ROUTE_KEYS)
    tags: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    if "match" in m:
        match = ck.mapping(m["match"], (*path, "match"), "{tags: [trade]}")
        if match is not None:
            ck.keys(match, (*path, "match"), _MATCH_KEYS, ())
            tags = ck.text_list(match.get("tags"), (*path, "match", "tags"), "[trade]") or ()
            status = ck.text_list(match.get("status"), (*path, "match", "status"), "[confirmed]") or ()
            for i, value in enumerate(status):
                if value not in EVENT_STATUSES:
                    where = (*path, "match", "status", i)
                    ck.error(where, f"unknown status {value!r} {suggest(value, EVENT_STATUSES)}")
            if not tags and not status:
                # An empty match would either match nothing or everything; both are surprising, so ask.
                ck.error((*path, "match"), "empty match: give tags: [...] and/or status: [...] to select events")
    notify: tuple[str, ...] = ()
    if "notify" in m:
        notify = ck.text_list(m["notify"], (*path, "notify"), "[desk-mail]") or ()
        if not notify and isinstance(m["notify"], list | type(None)):
            ck.error((*path, "notify"), "a route must notify at least one channel, e.g. notify: [desk-mail]")
        for i, cid in enumerate(notify):
            if cid not in declared:
                hint = suggest(cid, declared)
                ck.error((*path, "notify", i), f"unknown channel {cid!r} {hint}; declare it under 'channels'")
    if ck.error_count > errors:
        return None
    return Route(notify=tuple(dict.fromkeys(notify)), tags=tuple(dict.fromkeys(tags)), status=status)
