"""What every route needs: the running daemon, and a way to run blocking database work off the event loop.

The API sits below the daemon that serves it: it sees the daemon only as a :class:`Backend`, the few attributes
its routes read, so ``alertd.api`` never imports ``alertd.daemon``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from alertd.clock import Clock
from alertd.delivery import AckLinks, Dispatcher, Metrics
from alertd.domain import Calendar
from alertd.errors import CalendarIssue, StorageError
from alertd.settings import Settings
from alertd.storage import describe_db_error

__all__ = ["Backend", "DaemonDep", "Readers", "ReadersDep", "get_daemon", "run_db"]

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
    # Read-only connections of the API's own (never the dispatcher's database thread).
    read_engine: Engine
    dispatcher: Dispatcher
    metrics: Metrics
    # APScheduler's scheduler: the readiness probe asks whether it is running.
    scheduler: Any
    reload_error: str | None
    reload_issues: list[CalendarIssue]
    # Signed acknowledgement links (None without ALERTD_PUBLIC_URL).
    ack_links: AckLinks | None

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


class Readers:
    """Runs read-only work on threads of its own, at most ``limit`` at once (``ALERTD_API_READERS``).

    Readers never use the dispatcher's single database thread, so however many ask, due reminders are claimed
    and recorded on time. Excess requests wait up to ``wait`` seconds for a slot, then get 503.
    """

    def __init__(self, limit: int, *, wait: float = 10.0) -> None:
        self._slots = asyncio.Semaphore(limit)
        self.wait = wait

    async def run(self, daemon: Backend, fn: Callable[..., T], *args: Any) -> T:
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.wait)
        except TimeoutError:
            raise HTTPException(
                503, "too many read requests at once (ALERTD_API_READERS); retry shortly", {"Retry-After": "2"}
            ) from None
        try:
            return await asyncio.to_thread(fn, *args)
        except DBAPIError as exc:
            log.error("API request failed: %s", describe_db_error(daemon.db_url, exc))
            raise StorageError("the database is unavailable; see the daemon's log") from None
        finally:
            self._slots.release()


def get_readers(request: Request) -> Readers:
    readers: Readers = request.app.state.readers
    return readers


ReadersDep = Annotated[Readers, Depends(get_readers)]
