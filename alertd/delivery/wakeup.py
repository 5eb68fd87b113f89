"""Early wake-ups across replicas on PostgreSQL: LISTEN/NOTIFY on one channel, with a catch-up after reconnects.

A transaction that queues a notification calls :func:`alertd.storage.outbox.notify_due` with its due instant;
PostgreSQL delivers the message to every listening replica only if that transaction commits. Each daemon runs a
:class:`DueListener`: a dedicated psycopg connection on a thread (LISTEN needs a session of its own, never a pooled
one) that hands every due instant to the daemon, which wakes its dispatcher when the instant is sooner than its own
next wake-up.

NOTIFY is a hint, never the source of truth: messages sent while a replica was not listening are lost, so after
every (re)connect the listener asks for a catch-up step (the dispatcher re-reads what is due), and the daemon's
capped timer still polls in case a message or a whole connection silently went missing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

from alertd.storage import DUE_CHANNEL as CHANNEL

if TYPE_CHECKING:
    import psycopg

__all__ = ["DueListener", "parse_due"]

log = logging.getLogger("alertd.wakeup")

# A listener that hears nothing probes its connection this often (seconds), so a dead link is noticed.
_PROBE_EVERY = 5.0
# How long one wait for messages lasts: also how long :meth:`DueListener.stop` may take.
_POLL = 0.5


def parse_due(payload: str) -> datetime | None:
    """The instant in a notification's payload, or None (due now) when it cannot be read."""
    try:
        value = datetime.fromisoformat(payload)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _conninfo(url: URL) -> str:
    # libpq reads a postgresql:// URI itself; SQLAlchemy's driver suffix ("+psycopg") is not part of it.
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class DueListener:
    """LISTENs on :data:`CHANNEL` from a thread until :meth:`stop`; reconnects with backoff after any failure.

    ``on_due(instant)`` is called for each message and ``on_connect()`` after every successful LISTEN (the first
    one too: something may have been queued while nobody listened). Both run on the listener's thread: they must
    be quick and hand over to the event loop themselves (``loop.call_soon_threadsafe``). Reconnects back off to at
    most ``max_backoff`` seconds only: ``on_connect`` also ends the dispatcher's own (longer) pause after a database
    outage, so deliveries resume within about that long of the database's return.
    """

    def __init__(
        self,
        url: URL,
        *,
        on_due: Callable[[datetime | None], None],
        on_connect: Callable[[], None],
        max_backoff: float = 2.0,
    ) -> None:
        self._conninfo = _conninfo(url)
        self._on_due = on_due
        self._on_connect = on_connect
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connects = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alertd-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening; returns within about half a second (a connect in progress may take its timeout)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import psycopg

        backoff = 0.5
        lost = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, connect_timeout=5, keepalives=1, keepalives_idle=30
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connects += 1
                    if lost:
                        # The database outage itself is reported once by the dispatcher; this is detail.
                        log.info("wake-up listener connected again; catching up")
                    lost, backoff = False, 0.5
                    self._on_connect()
                    self._listen(conn)
            except psycopg.Error as exc:
                if not lost:
                    log.debug("wake-up listener lost its connection (%s); reconnecting", type(exc).__name__)
                lost = True
            except Exception:
                # A bug in a callback must not end early wake-ups for the life of the process.
                log.exception("wake-up listener failed; restarting it")
                lost = True
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self._max_backoff)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            for note in conn.notifies(timeout=_POLL, stop_after=100):
                last = time.monotonic()
                self._on_due(parse_due(note.payload))
            if time.monotonic() - last > _PROBE_EVERY:
                # A silent link may be half-open: a round trip proves it (or raises, and we reconnect).
                conn.execute("SELECT 1")
                last = time.monotonic()
