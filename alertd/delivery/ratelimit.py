"""Per-channel pacing: a token bucket in front of the dispatcher's claims.

Rates are the service's, in real seconds. The bucket reads time from the daemon's :class:`~alertd.clock.Clock`, so
on a replay clock running ``speed`` times faster the refill per clock second is ``rate / speed``: a rehearsal at
x600 still sends at most ``rate`` messages per real second and is not throttled by the real service.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from alertd.calendar.schema import Checker
from alertd.calendar.yamlsrc import KeyPath
from alertd.channels import REGISTRY
from alertd.clock import Clock
from alertd.domain import ChannelSpec, RateLimit

__all__ = ["TokenBucket", "channel_limit", "check_rate_limit"]

_EXAMPLE = "{per_second: 1, burst: 3} (or per_minute: 20)"


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per real second; one token per claimed notification."""

    def __init__(self, limit: RateLimit, clock: Clock) -> None:
        self.limit = limit
        self.clock = clock
        self._tokens = float(limit.burst)
        self._at = clock.now()

    def _refill(self) -> datetime:
        now = self.clock.now()
        elapsed = max(0.0, (now - self._at).total_seconds())
        self._tokens = min(float(self.limit.burst), self._tokens + elapsed * self._per_clock_second)
        self._at = now
        return now

    @property
    def _per_clock_second(self) -> float:
        return self.limit.per_second / self.clock.speed

    def available(self) -> int:
        """Whole tokens available now: how many notifications may be claimed for the channel at once."""
        self._refill()
        # A hair of tolerance: float refill arithmetic must not leave a token at 0.9999999 for a whole wake-up.
        return math.floor(self._tokens + 1e-9)

    def take(self, count: int) -> None:
        """Spend ``count`` tokens (the notifications just claimed)."""
        self._refill()
        self._tokens -= count

    def ready_at(self) -> datetime:
        """The clock instant at which at least one whole token is available again."""
        now = self._refill()
        missing = 1.0 - self._tokens
        if missing <= 1e-9:
            return now
        return now + timedelta(seconds=missing / self._per_clock_second)


def check_rate_limit(ck: Checker, raw: Any, path: KeyPath) -> RateLimit | None:
    """Validate ``rate_limit: {per_second: 1, burst: 3}`` (or ``per_minute``); None (and an issue) when wrong."""
    m = ck.mapping(raw, path, _EXAMPLE)
    if m is None:
        return None
    errors = ck.error_count
    ck.keys(m, path, ("per_second", "per_minute", "burst"), ())
    rates = [k for k in ("per_second", "per_minute") if k in m]
    if len(rates) != 1:
        ck.error(path, f"give exactly one of 'per_second' or 'per_minute', e.g. {_EXAMPLE}")
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


def channel_limit(spec: ChannelSpec) -> RateLimit | None:
    """The pace for one channel: its calendar ``rate_limit``, else its type's documented rate, else none."""
    if spec.rate_limit is not None:
        return spec.rate_limit
    kind = REGISTRY.get(spec.type)
    if kind is None or kind.rate is None:
        return None
    return RateLimit(per_second=kind.rate, burst=max(1, kind.burst))
