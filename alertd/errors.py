"""The one exception tree of alertd.

::

    AlertdError                      anything alertd raises on purpose; str() is a one-line, actionable cause
    ├── ConfigError                  bad process settings (ALERTD_* variables, .env, *_FILE secrets)
    ├── CalendarError                the calendar file is invalid; .issues lists every problem with file:line
    ├── FileReadError                a file named by the calendar or a setting cannot be read safely (not a
    │                                regular file, too big, outside ALERTD_SECRETS_DIR); str() says why
    ├── TemplateError                a channel template failed; .overrun says it went over its time, output or
    │                                memory budget (the notification fails) rather than failing on its data
    ├── FeedError                    an iCalendar feed could not be fetched or read (HTTP status, too big, too slow,
    │                                not iCalendar); its last good copy stays in use
    ├── StorageError                 the database is unreachable, unwritable, locked by another daemon or too old
    ├── UsageError                   a command was asked for something that cannot be done (unknown channel, id)
    │   ├── NotFoundError            the event or notification named does not exist
    │   └── ConflictError            the change clashes with what exists (duplicate id, event owned by the file)
    └── DeliveryError                one delivery attempt failed; .permanent says whether retrying can help,
                                     .retry_after carries the service's own throttling hint in seconds

The CLI turns every AlertdError into ``alertd: <message>`` and exit status 1, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AlertdError",
    "CalendarError",
    "CalendarIssue",
    "ConfigError",
    "ConflictError",
    "DeliveryError",
    "FeedError",
    "FileReadError",
    "NotFoundError",
    "StorageError",
    "TemplateError",
    "UsageError",
]


class AlertdError(Exception):
    """Base of every error alertd raises on purpose."""


class ConfigError(AlertdError):
    """Process settings are invalid."""


class FileReadError(AlertdError):
    """A file named by the calendar or a setting was refused or could not be read; the caller names the file."""


class TemplateError(AlertdError):
    """A channel template could not be rendered; ``overrun`` when it went over its budget (time, output, memory)."""

    def __init__(self, message: str, *, overrun: bool = True) -> None:
        super().__init__(message)
        self.overrun = overrun


class FeedError(AlertdError):
    """An iCalendar feed could not be fetched or read; the message names the feed and never quotes a secret URL."""


class StorageError(AlertdError):
    """The database cannot be used."""


class UsageError(AlertdError):
    """A command asked for something that does not exist or cannot be done."""


class NotFoundError(UsageError):
    """The event or notification named does not exist."""


class ConflictError(UsageError):
    """The change clashes with what exists: a duplicate id, or an event provisioned by the calendar file."""


@dataclass(frozen=True, slots=True)
class CalendarIssue:
    """One problem (or warning) found in a calendar file."""

    file: str
    line: int
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {label}{where}{self.message}"


class CalendarError(AlertdError):
    """The calendar file is invalid; every problem is in ``issues``."""

    def __init__(self, issues: list[CalendarIssue]) -> None:
        self.issues = issues
        errors = [i for i in issues if i.severity == "error"]
        first = str(errors[0]) if errors else "invalid calendar"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class DeliveryError(AlertdError):
    """One delivery attempt failed.

    ``permanent`` means the same request will never succeed (bad credentials, deleted webhook, payload
    rejected): the dispatcher gives up at once. ``retry_after`` is the delay the service asked for, in seconds.
    ``status`` is the HTTP status (or SMTP code) when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status
