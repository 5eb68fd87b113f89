"""Bulk statements that skip SQLAlchemy's per-value processing (planning writes hundreds of thousands of rows; the
dispatcher reads and writes a few hundred per round, thousands of rounds a minute under load).

Values are converted here exactly as the column types would convert them: instants to naive UTC (the SQLite text
form SQLAlchemy itself writes) and back to aware UTC, JSON to text and back, so rows go either way identically.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain, islice
from typing import Any

import sqlalchemy as sa

from alertd.storage.models import UTCDateTime

# Parameters per statement: SQLite allows 32,766 (since 3.32), PostgreSQL 65,535.
_MAX_PARAMETERS = 30_000

__all__ = [
    "driver_execute",
    "driver_sql",
    "execute_cells",
    "execute_many",
    "fetch",
    "fetch_where_in",
    "insert_ignoring_duplicates",
    "insert_many",
    "insert_sql",
    "instant_writer",
    "read_instant",
]


def instant_writer(sqlite: bool) -> Callable[[datetime | None], Any]:
    """Instants as the driver takes them (what :class:`UTCDateTime` writes), each distinct one converted once.

    One writer per statement or batch: rows repeat instants (one per channel when planning, an outcome's instant in
    three columns of two tables when recording).
    """
    cache: dict[datetime, Any] = {}

    def instant(v: datetime | None) -> Any:
        if v is None:
            return None
        found = cache.get(v)
        if found is None:
            if sqlite and v.tzinfo is UTC:
                # The same text as below without the "+00:00", at three quarters of the cost.
                found = cache[v] = v.isoformat(" ", "microseconds")[:26]
            else:
                naive = v.astimezone(UTC).replace(tzinfo=None)
                found = cache[v] = naive.isoformat(" ", "microseconds") if sqlite else naive
        return found

    return instant


def _converter(column: sa.Column[Any], sqlite: bool) -> Any:
    if isinstance(column.type, UTCDateTime):
        return instant_writer(sqlite)
    if isinstance(column.type, sa.JSON):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    return None


def read_instant(v: Any) -> Any:
    """An instant as the driver gives it (SQLite's naive UTC text, PostgreSQL's naive datetime) as aware UTC, as
    :class:`UTCDateTime` reads it; None stays None."""
    if v is None:
        return None
    if isinstance(v, str):
        # SQLite's naive UTC text; parsing it with its offset is five times cheaper than replace(tzinfo=).
        return datetime.fromisoformat(v + "+00:00")
    moment: datetime = v
    return moment.replace(tzinfo=UTC)


def _reader(column: sa.Column[Any], sqlite: bool) -> Any:
    if isinstance(column.type, UTCDateTime):
        return read_instant
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
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    key: str,
    values: Sequence[Any],
    *,
    chunk: int = 500,
    raw: Collection[str] = (),
) -> list[Any]:
    """Rows of ``table`` whose ``key`` is one of ``values``: the columns ``names``, as attributes, converted as the
    column types would convert them (except the columns in ``raw``, left as the driver gives them)."""
    quote = conn.dialect.identifier_preparer.quote
    make = _row_type(tuple(names))
    head = f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(table.name)} WHERE {quote(key)} IN "
    found = []
    for start in range(0, len(values), chunk):
        part = list(values[start : start + chunk])
        sql = head + "(" + ", ".join(["?"] * len(part)) + ")"
        found.extend(fetch(conn, table, sql, [(key, v) for v in part], names, make, raw=raw))
    return found


def fetch(
    conn: sa.Connection,
    table: sa.Table,
    sql: str,
    params: Sequence[tuple[str, Any]],
    names: Sequence[str],
    make: Any = tuple,
    *,
    raw: Collection[str] = (),
) -> list[Any]:
    """Run ``sql`` (any statement returning rows of ``table``) straight through the driver.

    ``sql`` marks its parameters ``?``; each parameter is a (column name, value) pair, converted as that column
    would convert it. The i-th result column is read as the column ``names[i]`` and each row is built as
    ``make(*cells)``.
    """
    sqlite = conn.dialect.name == "sqlite"
    sql = _driver_sql(conn, sql)
    converters = {name: _converter(table.c[name], sqlite) for name in {name for name, _ in params}}
    args = []
    for name, value in params:
        convert = converters[name]
        args.append(value if convert is None else convert(value))
    readers = [(i, _reader(table.c[n], sqlite)) for i, n in enumerate(names) if n not in raw]
    convert = [(i, f) for i, f in readers if f is not None]
    # The driver's own tuples: SQLAlchemy's Row objects would only be taken apart again.
    _count, rows = driver_execute(conn, sql, tuple(args), rows=True)
    found = []
    for row in rows:
        cells = list(row)
        for i, f in convert:
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
    """Run ``sql`` for every row, straight through the driver; return the rows it changed.

    ``sql`` marks its parameters ``?`` (turned into the driver's own style) and the i-th one takes the column
    ``names[i]`` of ``table``, read from each row's dict by that name and converted as the column would.

    Where ``sql`` holds ``{values}``, each chunk of rows is one statement with the rows there as a VALUES list (on
    PostgreSQL each value cast to its column's type: a VALUES list has none of its own). Otherwise the statement
    runs once per row, and each of those steps of the database hands the GIL to the event loop and waits to get
    it back: for the dispatcher's few hundred rows a round, one statement costs a fraction of that.
    """
    rows = list(rows)
    if not rows:
        return 0
    cells = _converted(table, names, rows, conn.dialect.name == "sqlite")
    return execute_cells(conn, table, sql, names, cells, len(rows), chunk=chunk)


def execute_cells(
    conn: sa.Connection,
    table: sa.Table,
    sql: str,
    names: Sequence[str],
    cells: Iterable[Sequence[Any]],
    count: int,
    *,
    chunk: int = 5000,
) -> int:
    """:func:`execute_many` for ``count`` rows already in the driver's terms: each a sequence of values in the
    order of ``names``, converted as their columns would convert them (instants by :func:`instant_writer`)."""
    if count <= 0:
        return 0
    sql = _driver_sql(conn, sql)
    values = "{values}" in sql
    if values:
        chunk = max(1, min(chunk, _MAX_PARAMETERS // len(names)))
        one = _row_marks(table, tuple(names), conn.dialect)
    rows = iter(cells)
    changed = 0
    for _ in range(0, count, chunk):
        part = list(islice(rows, chunk))
        if not values:
            done, _ = driver_execute(conn, sql, [tuple(row) for row in part], many=True)
            changed += max(done, 0)
            continue
        # VALUES lists of power-of-two lengths only (11 rows: 8, 2 and 1): the driver compiles each shape once and
        # finds it in its statement cache afterwards, where a list of every length was compiled afresh, which
        # cost more than running it.
        start = 0
        while start < len(part):
            size = 1 << ((len(part) - start).bit_length() - 1)
            piece = part[start : start + size]
            done, _ = driver_execute(conn, _values_sql(sql, one, size), tuple(chain.from_iterable(piece)))
            changed += max(done, 0)
            start += size
    return changed


@lru_cache(maxsize=256)
def _values_sql(sql: str, one: str, size: int) -> str:
    return sql.replace("{values}", ", ".join([one] * size))


def driver_execute(
    conn: sa.Connection, sql: str, params: Any, *, rows: bool = False, many: bool = False
) -> tuple[int, Sequence[Any]]:
    """Run ``sql`` (in the driver's parameter style) on the driver's own cursor, inside ``conn``'s transaction:
    how many rows it changed and, when ``rows``, the rows it returned as the driver's tuples.

    The dispatcher runs a few such statements every round, thousands of rounds a minute: SQLAlchemy's execution
    machinery (events, result objects) cost five times the driver's own call. A driver error is raised as
    SQLAlchemy's, as ``exec_driver_sql`` would raise it, so callers tell an unreachable database the same way.
    """
    error = conn.dialect.loaded_dbapi.Error
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        found = cursor.fetchall() if rows and cursor.description is not None else []
        return cursor.rowcount if cursor.rowcount is not None else -1, found
    except error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, error) from exc
    finally:
        cursor.close()


def _converted(
    table: sa.Table, names: Sequence[str], rows: Iterable[dict[str, Any]], sqlite: bool
) -> Iterator[list[Any]]:
    """Each row's values for ``names``, in that order, converted as their columns would convert them."""
    # Only the few converted columns are touched per row (a generator over every value cost ~40% of planning).
    converted = [(i, f) for i, f in enumerate(_converter(table.c[n], sqlite) for n in names) if f is not None]
    for r in rows:
        cells = [r[n] for n in names]
        for i, f in converted:
            cells[i] = f(cells[i])
        yield cells


@lru_cache(maxsize=64)
def _row_marks(table: sa.Table, names: tuple[str, ...], dialect: sa.Dialect) -> str:
    """One row of a VALUES list: ``(?, ?, …)`` on SQLite, each mark cast to its column's type on PostgreSQL."""
    # Cached: the dispatcher writes two such lists every round, and compiling the types took longer than the rest.
    if dialect.name == "sqlite":
        return "(" + ", ".join("?" * len(names)) + ")"
    return "(" + ", ".join(f"%s::{table.c[n].type.compile(dialect)}" for n in names) + ")"


def _driver_sql(conn: sa.Connection, sql: str) -> str:
    """``sql`` with its ``?`` parameter marks in the driver's own style."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


# The public name: statements written for the driver elsewhere (a sync's narrow reads) mark parameters the same way.
driver_sql = _driver_sql


def insert_sql(conn: sa.Connection, table: sa.Table, names: Sequence[str]) -> str:
    """An INSERT of ``names`` into ``table`` whose rows go where ``{values}`` stands (see :func:`execute_cells`)."""
    return _insert_sql(conn.dialect, table, tuple(names))


@lru_cache(maxsize=64)
def _insert_sql(dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]) -> str:
    # Cached: the dispatcher inserts attempts every round, and the statement never changes.
    quote = dialect.identifier_preparer.quote
    return f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES {{values}}"


def insert_many(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same columns), one statement per chunk; return how many were inserted."""
    if not rows:
        return 0
    names = list(rows[0])
    return execute_many(conn, table, insert_sql(conn, table, names), names, rows)


def insert_ignoring_duplicates(
    conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]], *, key: str = "id", chunk: int = 5000
) -> int:
    """Insert ``rows`` (dicts of column values), skipping those whose ``key`` exists; return how many were new."""
    rows = list(rows)
    if not rows:
        return 0
    names = list(rows[0])
    sql = insert_sql(conn, table, names) + f" ON CONFLICT ({conn.dialect.identifier_preparer.quote(key)}) DO NOTHING"
    return execute_many(conn, table, sql, names, rows, chunk=chunk)
