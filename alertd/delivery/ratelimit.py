"""Per-channel pacing: a token bucket in front of the dispatcher's claims.

Rates are the service's, in real seconds. The bucket reads time from the daemon's :class:`~alertd.clock.Clock`, so
on a replay clock running ``speed`` times faster the refill per clock second is ``rate / speed``: a rehearsal at
x600 still sends at most ``rate`` messages per real second and is not throttled by the real service.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from alertd.channels import channel_type
from alertd.clock import Clock
from alertd.domain import ChannelSpec, RateLimit

__all__ = ["TokenBucket", "channel_limit"]


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


def channel_limit(spec: ChannelSpec) -> RateLimit | None:
    """The pace for one channel: its calendar ``rate_limit``, else its type's documented rate, else none."""
    if spec.rate_limit is not None:
        return spec.rate_limit
    kind = channel_type(spec.type)
    if kind is None or kind.rate is None:
        return None
    return RateLimit(per_second=kind.rate, burst=max(1, kind.burst))
