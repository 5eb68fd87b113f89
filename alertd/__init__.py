"""alertd: a deadline and event alerting daemon."""

from __future__ import annotations

from alertd.errors import AlertdError, CalendarError, ConfigError, DeliveryError, StorageError, UsageError

__all__ = [
    "AlertdError",
    "CalendarError",
    "ConfigError",
    "DeliveryError",
    "StorageError",
    "UsageError",
    "__version__",
]

__version__ = "0.1.0"
