"""One database connection kept across the dispatcher's rounds while deliveries are under way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

__all__ = ["HeldConnection"]


class HeldConnection:
    """A connection checked out of ``engine``'s pool once and used for round after round, each its own transaction.

    A checkout per round (the pool's events, its reset on return, PostgreSQL's pre-ping) cost three times what an
    empty transaction costs on a held connection, and under load the dispatcher runs a round every few sends. The
    connection goes back to the pool on :meth:`release` (the dispatcher's work ran out, so an idle daemon holds
    none and the pool's pre-ping checks the next one) and after any failed round, so a broken connection is never
    used twice. Not thread-safe: one thread (the dispatcher's database thread) uses it.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._conn: sa.Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction on the held connection (checked out first if none is held), committed when the block
        ends and rolled back, with the connection released, when it raises."""
        conn = self._conn
        if conn is None or conn.invalidated:
            self.release()
            conn = self._conn = self.engine.connect()
        try:
            with conn.begin():
                yield conn
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Give the connection back to the pool (a no-op when none is held)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
