"""What every route needs: the running daemon, and a way to run blocking database work off the event loop.

The API sits below the daemon that serves it: it sees the daemon only as a :class:`Backend`, the few attributes
its routes read, so ``alertd.api`` never imports ``alertd.daemon``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from alertd.clock import Clock
from alertd.delivery import Dispatcher, Metrics
from alertd.domain import Calendar
from alertd.errors import CalendarIssue, StorageError
from alertd.settings import Settings
from alertd.storage import describe_db_error

__all__ = ["Backend", "DaemonDep", "get_daemon", "run_db"]

log = logging.getLogger("alertd.http")
T = TypeVar("T")


class Backend(Protocol):
    """What the routes read from the daemon serving them."""

    settings: Settings
    clock: Clock
    calendar: Calendar
    calendar_path: Path
    db_url: str
    engine: Engine
    dispatcher: Dispatcher
    metrics: Metrics
    # APScheduler's scheduler: the readiness probe asks whether it is running.
    scheduler: Any
    reload_error: str | None
    reload_issues: list[CalendarIssue]

    @property
    def delivering(self) -> bool: ...


def get_daemon(request: Request) -> Backend:
    daemon: Backend = request.app.state.daemon
    return daemon


DaemonDep = Annotated[Backend, Depends(get_daemon)]


async def run_db(daemon: Backend, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the dispatcher's database thread, so API writes never race its claims on SQLite.

    A database failure becomes StorageError with a message that names no credentials; the full cause is logged.
    """
    try:
        result: T = await daemon.dispatcher.db(fn, *args)
    except DBAPIError as exc:
        log.error("API request failed: %s", describe_db_error(daemon.db_url, exc))
        raise StorageError("the database is unavailable; see the daemon's log") from None
    return result
