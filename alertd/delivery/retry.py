"""The one retry policy: exponential backoff with jitter, honouring the service's own throttling hints."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["MAX_RETRY_AFTER", "RetryPolicy", "parse_retry_after", "retry_seconds"]

# A service may ask for a long pause, but waiting longer than this means a human should look instead.
MAX_RETRY_AFTER = 6 * 3600.0


def retry_seconds(value: Any) -> float | None:
    """Seconds to wait from a JSON number a service put in its body (Discord, Telegram); None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return min(max(float(value), 0.0), MAX_RETRY_AFTER)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3).

    Negative or past values become 0; unreadable ones are ignored (None); huge ones are capped.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``delay(attempts)`` is the pause after the ``attempts``-th failed attempt, or None to give up."""

    max_attempts: int = 10
    base: float = 2.0
    cap: float = 3600.0

    def delay(
        self,
        attempts: int,
        *,
        retry_after: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        if attempts >= self.max_attempts:
            return None
        if retry_after is not None:
            # The service said when; a little jitter keeps many replicas from returning in lockstep.
            return retry_after + min(1.0, retry_after * 0.1) * rand()
        ceiling = min(self.cap, self.base * 2.0 ** max(attempts - 1, 0))
        # "Equal jitter": never less than half the exponential step, so retries still back off.
        return ceiling / 2 + (ceiling / 2) * rand()
