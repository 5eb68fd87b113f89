"""The one retry policy: exponential backoff with jitter, honouring the service's own throttling hints.

What a service said about when to come back is read by the channels (:mod:`alertd.channels.retry_after`); this
module decides what to do with it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


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
