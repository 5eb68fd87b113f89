"""The fingerprint of an event: a digest of everything its planning and messages depend on.

A sync compares the fingerprint of every event of the calendar with the stored one, so computing it is the
per-event cost of every reload (100k events: most of a sync that changes one of them). The digest is SHA-256 over
the JSON text ``json.dumps(fields, sort_keys=True)`` would write for the fields below; that text is built directly
here (strings escaped by :mod:`json`'s own encoder), with the lists events share (``notify``, ``reminders``,
``tags``) encoded once per batch. Stored fingerprints stay valid: the text is byte for byte the same, which the
tests check against ``json.dumps``.

Each event keeps its digest (``EventSpec.memo_fingerprint``): an event object is immutable, and the calendar loader
hands a reload the previous load's objects for unchanged events, so an edit digests only what it changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from itertools import compress, repeat
from json.encoder import encode_basestring_ascii as _quote
from operator import attrgetter, is_
from typing import Any, cast

from alertd.domain import EventSpec, event_snapshot

__all__ = ["PLAN_RULES", "event_fingerprint", "event_fingerprints"]

# Bumped whenever the planner would plan an unchanged event differently, so that a database planned by an older
# alertd is re-planned once on upgrade (2: times written with an offset keep their instant; an all-day event gets
# one reminder per day, at all_day_at).
PLAN_RULES = 2
_MEMO = attrgetter("memo_fingerprint")


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(map(_quote, values)) + "]"


def _optional(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _shared(e: EventSpec) -> tuple[str, str, str]:
    """The text around the per-event values, for the fields events of one calendar mostly share."""
    true_false = ("false", "true")
    at = e.all_day_at
    reminders = _strings(o.stored for o in e.reminders)
    return (
        f'{{"all_day": {true_false[e.all_day]}, "all_day_at": "{at.hour:02d}:{at.minute:02d}", '
        f'"countdown": {true_false[e.countdown]}, "local_start": "',
        f', "notify": {_strings(e.notify)}, "reminders": {reminders}, "rules": {PLAN_RULES}, "source": ',
        f'", "status": {_quote(e.status)}, "tags": {_strings(e.tags)}, "timezone": {_quote(e.timezone)}, "title": ',
    )


def _full(e: EventSpec) -> str:
    """The digest by its definition, for the few events the fast path does not spell (acknowledgement settings)."""
    fields: dict[str, Any] = event_snapshot(e) | {
        "tags": list(e.tags),
        "source": e.source,
        "notes": e.notes,
        "reminders": [o.stored for o in e.reminders],
        "notify": list(e.notify),
        "all_day_at": e.all_day_at.strftime("%H:%M"),
        "countdown": e.countdown,
        "rules": PLAN_RULES,
    }
    # Only when set: an event without them keeps the digest it had before acknowledgements existed (no re-plan).
    if e.after_ack != "stop":
        fields["after_ack"] = e.after_ack
    if e.escalate:
        fields["escalate"] = [[s.at.text, list(s.notify), s.repeat and s.repeat.text] for s in e.escalate]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


def event_fingerprints(events: Iterable[EventSpec]) -> list[str]:
    """The fingerprint of each of ``events``, in order."""
    batch = events if isinstance(events, list) else list(events)
    # The kept digests are read in C: a reload whose events were digested before pays no Python step per event.
    found: list[str | None] = list(map(_MEMO, batch))
    missing = found.count(None)
    if missing == len(found):
        return _digests(batch)
    if missing:
        todo = list(compress(range(len(found)), map(is_, found, repeat(None))))
        for i, digest in zip(todo, _digests([batch[i] for i in todo]), strict=True):
            found[i] = digest
    return cast(list[str], found)


def _digests(events: list[EventSpec]) -> list[str]:
    """The fingerprint of each of ``events``, computed (and kept on each)."""
    # Keyed by the values of the shared fields, but by the identity of the reminders (events built from one calendar
    # share their defaults' tuple; Offsets are dear to hash): tags and channels are equal tuples of text in events
    # the loader built one by one. The reminders are kept in the value, so that an id cannot be reused by another
    # object while the batch runs.
    shared: dict[tuple[object, ...], tuple[tuple[str, str, str], object]] = {}
    found: list[str] = []
    sha256 = hashlib.sha256
    keep = object.__setattr__  # the event is frozen; the memo is the one field set after construction
    for e in events:
        if e.after_ack != "stop" or e.escalate:
            digest = _full(e)
            keep(e, "memo_fingerprint", digest)
            found.append(digest)
            continue
        key = (e.tags, e.notify, id(e.reminders), e.all_day, e.all_day_at, e.countdown, e.status, e.timezone)
        texts = shared.get(key)
        if texts is None:
            texts = shared[key] = (_shared(e), e.reminders)
        (head, middle, tail), _ = texts
        s = e.starts_at
        # As event_snapshot spells it (strftime), which writes years before 1000 unpadded unlike isoformat.
        start = s.isoformat()[:19] if s.year >= 1000 else s.strftime("%Y-%m-%dT%H:%M:%S")
        # json.dumps(..., sort_keys=True) of the fields, piece by piece; an isoformat text needs no escaping.
        text = (
            f'{head}{e.local_start.isoformat()}", "notes": {_optional(e.notes)}{middle}{_optional(e.source)}, '
            f'"starts_at": "{start}Z{tail}{_quote(e.title)}}}'
        )
        digest = sha256(text.encode()).hexdigest()[:32]
        keep(e, "memo_fingerprint", digest)
        found.append(digest)
    return found


def event_fingerprint(event: EventSpec) -> str:
    """A digest of everything about an event that planning or messages depend on."""
    return event_fingerprints((event,))[0]
