"""What every route needs: the running daemon, and a way to run blocking database work off the event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError

from alertd.daemon import Daemon
from alertd.errors import StorageError
from alertd.storage.db import describe_db_error

__all__ = ["DaemonDep", "get_daemon", "run_db"]

log = logging.getLogger("alertd.http")
T = TypeVar("T")


def get_daemon(request: Request) -> Daemon:
    daemon: Daemon = request.app.state.daemon
    return daemon


DaemonDep = Annotated[Daemon, Depends(get_daemon)]


async def run_db(daemon: Daemon, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the dispatcher's database thread, so API writes never race its claims on SQLite.

    A database failure becomes StorageError with a message that names no credentials; the full cause is logged.
    """
    try:
        result: T = await daemon.dispatcher.db(fn, *args)
    except DBAPIError as exc:
        log.error("API request failed: %s", describe_db_error(daemon.db_url, exc))
        raise StorageError("the database is unavailable; see the daemon's log") from None
    return result
