"""The calendar's acknowledgement keys, per event or under ``defaults``: ``after_ack`` and ``escalate``.

``escalate: [{at: 2d, unless: acknowledged, notify: [pager]}, {at: 2h, notify: [cto-email], repeat: 30m}]``:
offsets as reminders use them; ``unless`` may only say ``acknowledged`` (the one condition there is, and the
default); ``repeat`` sends the step again at that interval until the event starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath
from alertd.domain import AFTER_ACK, Escalation

__all__ = ["MAX_STEPS", "MIN_REPEAT_SECONDS", "check_after_ack", "check_escalate"]

_STEP = ("at", "unless", "notify", "repeat")
_EXAMPLE = "[{at: 2d, unless: acknowledged, notify: [pager]}]"
MAX_STEPS = 20
# Faster than this, a repeating step would flood its channel before anyone could answer it.
MIN_REPEAT_SECONDS = 60


def check_after_ack(ck: Checker, raw: Any, path: KeyPath) -> str | None:
    if raw in AFTER_ACK:
        return str(raw)
    shown = raw if isinstance(raw, str) else repr(raw)
    ck.error(path, f"unknown after_ack {shown!r} {suggest(str(shown), AFTER_ACK)}")
    return None


def check_escalate(
    ck: Checker, raw: Any, path: KeyPath, notify: Callable[[Any, KeyPath], tuple[str, ...] | None]
) -> tuple[Escalation, ...] | None:
    """The steps of an ``escalate`` list; ``notify`` checks a list of channel ids."""
    if not isinstance(raw, list):
        ck.error(path, f"must be a list of steps, e.g. {_EXAMPLE} ([] for none)")
        return None
    if len(raw) > MAX_STEPS:
        ck.error(path, f"{len(raw)} escalation steps; keep it to {MAX_STEPS}")
        return None
    steps = [_step(ck, item, (*path, i), notify) for i, item in enumerate(raw)]
    return None if any(s is None for s in steps) else tuple(s for s in steps if s is not None)


def _step(
    ck: Checker, raw: Any, path: KeyPath, notify: Callable[[Any, KeyPath], tuple[str, ...] | None]
) -> Escalation | None:
    m = ck.mapping(raw, path, "{at: 2d, unless: acknowledged, notify: [pager]}")
    if m is None:
        return None
    errors = ck.error_count
    ck.keys(m, path, _STEP, ("at", "notify"))
    if m.get("unless", "acknowledged") != "acknowledged":
        ck.error((*path, "unless"), "the only condition is 'acknowledged' (the default): write unless: acknowledged")
    at = ck.offset(m["at"], (*path, "at")) if "at" in m else None
    channels = notify(m["notify"], (*path, "notify")) if "notify" in m else None
    if channels == ():
        ck.error((*path, "notify"), "name at least one channel to escalate to")
    repeat = ck.offset(m["repeat"], (*path, "repeat")) if m.get("repeat") is not None else None
    if repeat is not None and (repeat.after or repeat.days * 86400 + repeat.seconds < MIN_REPEAT_SECONDS):
        ck.error((*path, "repeat"), f"bad interval {repeat.text!r}: write a positive duration of 1m or more, e.g. 30m")
    if ck.error_count > errors or at is None or not channels:
        return None
    return Escalation(at=at, notify=channels, repeat=repeat)
