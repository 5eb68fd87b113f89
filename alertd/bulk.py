"""Bulk statements that skip SQLAlchemy's per-value processing (planning writes hundreds of thousands of rows; the
dispatcher reads and writes a few hundred per round, thousands of rounds a minute under load).

Values are converted here exactly as the column types would convert them: instants to naive UTC (the SQLite text
form SQLAlchemy itself writes) and back to aware UTC, JSON to text and back, so rows go either way identically.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from alertd.models import UTCDateTime

__all__ = ["execute_many", "fetch_where_in", "insert_ignoring_duplicates", "insert_many"]


def _converter(column: sa.Column[Any], sqlite: bool) -> Any:
    if isinstance(column.type, UTCDateTime):
        # Planned rows repeat instants (one per channel, "now" on every row): convert each only once.
        cache: dict[datetime, Any] = {}

        def instant(v: datetime | None) -> Any:
            if v is None:
                return None
            found = cache.get(v)
            if found is None:
                naive = v.astimezone(UTC).replace(tzinfo=None)
                found = cache[v] = naive.isoformat(" ", "microseconds") if sqlite else naive
            return found

        return instant
    if isinstance(column.type, sa.JSON):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    return None


def _reader(column: sa.Column[Any], sqlite: bool) -> Any:
    if isinstance(column.type, UTCDateTime):

        def instant(v: Any) -> datetime | None:
            if v is None:
                return None
            moment: datetime = datetime.fromisoformat(v) if isinstance(v, str) else v
            return moment.replace(tzinfo=UTC)

        return instant
    if not sqlite:
        return None  # the PostgreSQL driver already gives JSON as Python values and booleans as bool
    if isinstance(column.type, sa.JSON):
        return lambda v: None if v is None else json.loads(v)
    if isinstance(column.type, sa.Boolean):
        return lambda v: None if v is None else bool(v)
    return None


@lru_cache(maxsize=32)
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names)


def fetch_where_in(
    conn: sa.Connection, table: sa.Table, names: Sequence[str], key: str, values: Sequence[Any], *, chunk: int = 500
) -> list[Any]:
    """Rows of ``table`` whose ``key`` is one of ``values``: the columns ``names``, as attributes, converted as the
    column types would convert them."""
    sqlite = conn.dialect.name == "sqlite"
    quote = conn.dialect.identifier_preparer.quote
    readers = [(i, f) for i, f in enumerate(_reader(table.c[n], sqlite) for n in names) if f is not None]
    make = _row_type(tuple(names))
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    head = f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(table.name)} WHERE {quote(key)} IN "
    found = []
    for start in range(0, len(values), chunk):
        part = list(values[start : start + chunk])
        for raw in conn.exec_driver_sql(head + "(" + ", ".join([mark] * len(part)) + ")", tuple(part)):
            cells = list(raw)
            for i, f in readers:
                cells[i] = f(cells[i])
            found.append(make(*cells))
    return found


def execute_many(
    conn: sa.Connection,
    table: sa.Table,
    sql: str,
    names: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    chunk: int = 5000,
) -> int:
    """Run ``sql`` once per row, straight through the driver; return the rows it changed.

    ``sql`` marks its parameters ``?`` (turned into the driver's own style) and the i-th one takes the column
    ``names[i]`` of ``table``, read from each row's dict by that name and converted as the column would.
    """
    sqlite = conn.dialect.name == "sqlite"
    rows = list(rows)
    if not rows:
        return 0
    columns = [table.c[n] for n in names]
    converters = [_converter(c, sqlite) for c in columns]
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    # Only the few converted columns are touched per row (a generator over every value cost ~40% of planning).
    converted = [(i, f) for i, f in enumerate(converters) if f is not None]
    changed = 0
    for start in range(0, len(rows), chunk):
        params = []
        for r in rows[start : start + chunk]:
            cells = [r[n] for n in names]
            for i, f in converted:
                cells[i] = f(cells[i])
            params.append(tuple(cells))
        result = conn.exec_driver_sql(sql, params)
        changed += max(result.rowcount or 0, 0)
    return changed


def _insert_sql(conn: sa.Connection, table: sa.Table, names: Sequence[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    cast = "" if conn.dialect.name == "sqlite" else "::json"
    values = ", ".join("?" + (cast if isinstance(table.c[n].type, sa.JSON) else "") for n in names)
    return f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({values})"


def insert_many(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same columns); return how many were inserted."""
    if not rows:
        return 0
    names = list(rows[0])
    return execute_many(conn, table, _insert_sql(conn, table, names), names, rows)


def insert_ignoring_duplicates(
    conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]], *, key: str = "id", chunk: int = 5000
) -> int:
    """Insert ``rows`` (dicts of column values), skipping those whose ``key`` exists; return how many were new."""
    rows = list(rows)
    if not rows:
        return 0
    names = list(rows[0])
    sql = _insert_sql(conn, table, names) + f" ON CONFLICT ({conn.dialect.identifier_preparer.quote(key)}) DO NOTHING"
    return execute_many(conn, table, sql, names, rows, chunk=chunk)
