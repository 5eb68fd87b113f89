"""Transaction-level advisory locks that keep replicas on one PostgreSQL database from racing each other.

Replicas need no leader: claims use ``FOR UPDATE SKIP LOCKED`` and planned rows have stable ids. Two writers must
still take turns: migrations (two replicas upgrading an empty database at once would both create the tables) and
calendar sync (both would read the same old events, then both insert the new ones, or both queue a change notice
under a new revision). ``pg_advisory_xact_lock`` makes the second wait until the first commits; under READ
COMMITTED it then reads what the first wrote and has nothing left to do. The lock ends with the transaction, so a
crashed replica cannot keep it (unlike a session-level lock, which survives as long as its connection).
On SQLite these are no-ops: ``BEGIN IMMEDIATE`` already serializes writers, and one daemon owns the file.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["MIGRATE", "PLANNING", "lock_for_transaction"]

# Arbitrary 64-bit keys, fixed forever: replicas of different versions must agree on them.
MIGRATE = 0x616C657274640001
PLANNING = 0x616C657274640002


def lock_for_transaction(conn: sa.Connection, key: int) -> None:
    """Wait for the advisory lock ``key``, held until the current transaction ends (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
