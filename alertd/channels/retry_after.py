"""When a service asks to be tried again: ``Retry-After`` headers and the JSON fields some services use instead.

Read here, at the channel boundary; what to do with the answer is :class:`alertd.delivery.retry.RetryPolicy`'s.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["MAX_RETRY_AFTER", "parse_retry_after", "retry_seconds"]

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
