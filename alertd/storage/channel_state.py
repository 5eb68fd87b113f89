"""Channel state in the database: :class:`MetaState` keeps what channels remember between sends in the ``meta``
table, so every replica on one database and every restart sees the same values (the interface and the in-process
store are :mod:`alertd.channels.state`'s).
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from alertd.storage.models import Meta

__all__ = ["MetaState"]

META = Meta.__table__  # type: ignore[attr-defined]


class MetaState:
    """Channel state in the ``meta`` table; each call is one short transaction on a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def get(self, key: str) -> str | None:
        return await asyncio.to_thread(self._get, key)

    async def put_if_absent(self, key: str, value: str) -> str:
        return await asyncio.to_thread(self._put_if_absent, key, value)

    async def put(self, key: str, value: str) -> None:
        await asyncio.to_thread(self._put, key, value)

    async def replace(self, key: str, old: str, new: str) -> str:
        return await asyncio.to_thread(self._replace, key, old, new)

    def _get(self, key: str) -> str | None:
        with self.engine.begin() as conn:
            return _read(conn, key)

    def _put_if_absent(self, key: str, value: str) -> str:
        dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            if dialect in ("sqlite", "postgresql"):
                # INSERT … ON CONFLICT DO NOTHING: of two replicas racing, exactly one insert lands.
                row = {"key": key, "value": value}
                stmt: sa.Executable
                if dialect == "sqlite":
                    stmt = sqlite.insert(META).values(row).on_conflict_do_nothing(index_elements=["key"])
                else:
                    # Here, not at the top: a process on SQLite never loads the PostgreSQL dialect.
                    from sqlalchemy.dialects import postgresql

                    stmt = postgresql.insert(META).values(row).on_conflict_do_nothing(index_elements=["key"])
                conn.execute(stmt)
            else:
                try:
                    with conn.begin_nested():
                        conn.execute(META.insert().values(key=key, value=value))
                except IntegrityError:
                    pass
            stored = _read(conn, key)
        return value if stored is None else stored

    def _put(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(META.update().where(META.c.key == key).values(value=value)).rowcount == 0:
                conn.execute(META.insert().values(key=key, value=value))

    def _replace(self, key: str, old: str, new: str) -> str:
        with self.engine.begin() as conn:
            # Compare-and-set: a replica that replaced the value first wins, the other one learns its value.
            changed = conn.execute(
                META.update().where(META.c.key == key, META.c.value == old).values(value=new)
            ).rowcount
            if changed:
                return new
        return self._put_if_absent(key, new)


def _read(conn: sa.Connection, key: str) -> str | None:
    value: str | None = conn.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()
    return value
