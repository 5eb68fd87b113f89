from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.storage import bulk
from alertd.storage.bulk import (
    driver_execute,
    execute_many,
    fetch,
    fetch_where_in,
    insert_ignoring_duplicates,
    insert_many,
    instant_writer,
)
from alertd.storage.outbox import NOTIFICATION

NOW = datetime(2025, 11, 9, 14, 0, 0, 123456, tzinfo=UTC)


def row(id: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": id,
        "kind": "reminder",
        "event_id": "truce-expiry",
        "channel": "hooks",
        "offset": "1d",
        "due_at": NOW,
        "next_at": NOW,
        "expires_at": None,
        "state": "pending",
        "attempts": 0,
        "late": False,
        "payload": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return base | values


def insert(engine: Engine, rows: list[dict[str, Any]], **kwargs: Any) -> int:
    with engine.begin() as conn:
        return insert_ignoring_duplicates(conn, NOTIFICATION, rows, **kwargs)


def stored(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        return {r.id: r for r in conn.execute(sa.select(NOTIFICATION))}


def test_inserts_new_rows_and_counts_them(engine: Engine) -> None:
    """Every new row is written and counted."""
    assert insert(engine, [row("a"), row("b")]) == 2
    assert sorted(stored(engine)) == ["a", "b"]


def test_existing_keys_are_ignored(engine: Engine) -> None:
    """A row whose id exists is skipped without error and the stored row is kept as it was."""
    insert(engine, [row("a", channel="hooks")])
    assert insert(engine, [row("a", channel="mail"), row("b")]) == 1
    assert stored(engine)["a"].channel == "hooks"


def test_duplicates_within_one_batch_are_inserted_once(engine: Engine) -> None:
    """The same id twice in one call yields one row."""
    assert insert(engine, [row("a"), row("a")]) == 1
    assert list(stored(engine)) == ["a"]


def test_nothing_to_insert_is_a_no_op(engine: Engine) -> None:
    """An empty batch does not touch the database."""
    assert insert(engine, []) == 0


def test_instants_read_back_as_the_same_aware_utc_values(engine: Engine) -> None:
    """Offsets are converted to UTC on the way in, and microseconds survive the round trip."""
    plus_eight = timezone(timedelta(hours=8))
    insert(engine, [row("a", due_at=NOW.astimezone(plus_eight), expires_at=NOW + timedelta(days=1))])
    found = stored(engine)["a"]
    assert found.due_at == NOW
    assert found.due_at.tzinfo is not None
    assert found.expires_at == NOW + timedelta(days=1)


def test_bulk_rows_sort_like_rows_written_by_the_orm(engine: Engine) -> None:
    """A bulk row and a normally inserted row compare correctly by instant (same on-disk form)."""
    insert(engine, [row("bulk", next_at=NOW + timedelta(microseconds=1))])
    with engine.begin() as conn:
        conn.execute(NOTIFICATION.insert().values(**row("orm", next_at=NOW)))
        order = list(conn.execute(sa.select(NOTIFICATION.c.id).order_by(NOTIFICATION.c.next_at)).scalars())
    assert order == ["orm", "bulk"]


def test_json_payload_round_trips(engine: Engine) -> None:
    """JSON columns are written as JSON text and read back as the same structure, non-ASCII included."""
    payload = {"type": "changed", "before": {"title": "US–China truce"}, "after": None, "n": [1, 2]}
    insert(engine, [row("a", payload=payload)])
    assert stored(engine)["a"].payload == payload


def test_null_json_stays_null(engine: Engine) -> None:
    """A missing payload is stored as NULL, not as the JSON text ``null``."""
    insert(engine, [row("a", payload=None)])
    with engine.begin() as conn:
        found = conn.execute(
            sa.select(sa.func.count()).select_from(NOTIFICATION).where(NOTIFICATION.c.payload.is_(None))
        ).scalar_one()
    assert found == 1


def test_large_batches_are_written_in_chunks(engine: Engine) -> None:
    """Rows beyond one chunk are all written and counted."""
    assert insert(engine, [row(f"n{i}") for i in range(25)], chunk=10) == 25
    assert len(stored(engine)) == 25


def test_fetch_where_in_reads_rows_as_sqlalchemy_does(engine: Engine) -> None:
    """Instants come back aware UTC, JSON as Python values, booleans as bool: the same values as a Core select."""
    insert(engine, [row("a", payload={"change": {"type": "moved"}}, late=True, expires_at=NOW), row("b"), row("c")])
    names = ("id", "due_at", "expires_at", "payload", "late", "attempts")
    with engine.begin() as conn:
        fast = {r.id: r for r in fetch_where_in(conn, NOTIFICATION, names, "id", ["a", "b", "missing"], chunk=1)}
        core = {r.id: r for r in conn.execute(sa.select(*(NOTIFICATION.c[n] for n in names)))}
    assert sorted(fast) == ["a", "b"]
    for key, got in fast.items():
        assert tuple(got) == tuple(core[key])
    assert fast["a"].due_at.tzinfo is UTC
    assert fast["a"].late is True


def test_execute_many_updates_each_row_and_counts_the_changes(engine: Engine) -> None:
    """Parameters are converted like the column types (an aware instant is stored as UTC) and matched by name."""
    insert(engine, [row("a"), row("b")])
    later = datetime(2025, 11, 9, 16, 0, tzinfo=timezone(timedelta(hours=2)))
    sql = "UPDATE notification SET state = ?, next_at = ? WHERE id = ?"
    with engine.begin() as conn:
        changed = execute_many(
            conn,
            NOTIFICATION,
            sql,
            ("state", "next_at", "id"),
            [{"id": "a", "state": "retrying", "next_at": later}, {"id": "zz", "state": "dead", "next_at": later}],
        )
    assert changed == 1
    got = stored(engine)
    assert (got["a"].state, got["a"].next_at) == ("retrying", datetime(2025, 11, 9, 14, 0, tzinfo=UTC))
    assert got["b"].state == "pending"


def test_insert_many_writes_every_row_with_one_statement(engine: Engine) -> None:
    """Rows written as one VALUES list read back through SQLAlchemy unchanged: instants, JSON, booleans, NULLs."""
    rows = [row("a", payload={"k": [1, "é"]}, late=True), row("b", expires_at=NOW + timedelta(hours=1))]
    with engine.begin() as conn:
        assert insert_many(conn, NOTIFICATION, rows) == 2
    got = stored(engine)
    assert (got["a"].payload, got["a"].late, got["a"].expires_at) == ({"k": [1, "é"]}, True, None)
    assert (got["b"].payload, got["b"].due_at, got["b"].expires_at) == (None, NOW, NOW + timedelta(hours=1))


def test_execute_many_with_a_values_list_updates_every_row_in_chunks(engine: Engine) -> None:
    """One statement per chunk joins the VALUES list by name; only rows that match are changed and counted."""
    insert(engine, [row(f"n{i}") for i in range(5)])
    later = datetime(2025, 11, 9, 16, 0, tzinfo=timezone(timedelta(hours=2)))
    sql = (
        "UPDATE notification SET state = v.state, next_at = v.next_at FROM "
        "(SELECT column1 AS state, column2 AS next_at, column3 AS id FROM (VALUES {values}) AS t) AS v "
        "WHERE notification.id = v.id"
    )
    updates = [{"id": f"n{i}", "state": "retrying", "next_at": later} for i in (0, 1, 2, 4)]
    with engine.begin() as conn:
        changed = execute_many(
            conn, NOTIFICATION, sql, ("state", "next_at", "id"), [*updates, {**updates[0], "id": "zz"}], chunk=2
        )
    assert changed == 4
    got = stored(engine)
    assert {k for k, r in got.items() if r.state == "retrying"} == {"n0", "n1", "n2", "n4"}
    assert got["n4"].next_at == datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
    assert got["n3"].state == "pending"


def test_fetch_reads_the_rows_a_statement_returns(engine: Engine) -> None:
    """Parameters are converted by column, returned columns read by column, each row built by ``make``."""
    insert(engine, [row("a", payload={"x": 1}), row("b")])
    sql = "UPDATE notification SET updated_at = ? WHERE id = ? RETURNING id, updated_at, payload, late"
    later = NOW.astimezone(timezone(timedelta(hours=-5))) + timedelta(minutes=1)
    with engine.begin() as conn:
        got = fetch(
            conn,
            NOTIFICATION,
            sql,
            [("updated_at", later), ("id", "a")],
            ("id", "updated_at", "payload", "late"),
            lambda *cells: cells,
        )
    assert got == [("a", NOW + timedelta(minutes=1), {"x": 1}, False)]
    assert got[0][1].tzinfo is UTC
    assert stored(engine)["b"].updated_at == NOW


def test_a_driver_error_is_raised_as_sqlalchemys(engine: Engine) -> None:
    """Statements on the driver's cursor fail as SQLAlchemy's would (the dispatcher reports those as an outage)."""
    with pytest.raises(sa.exc.DBAPIError, match="no_such_column"), engine.begin() as conn:
        driver_execute(conn, "UPDATE notification SET no_such_column = 1", ())


def test_instant_writer_writes_what_the_column_type_writes(engine: Engine) -> None:
    """The same value as SQLAlchemy's own bind processing, for UTC and other offsets alike; None stays None."""
    dialect = engine.dialect
    process = NOTIFICATION.c.due_at.type.dialect_impl(dialect).bind_processor(dialect)
    write = instant_writer(dialect.name == "sqlite")
    elsewhere = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert process is not None
    for value in (NOW, elsewhere):
        assert write(value) == process(value)
    assert write(None) is None


def test_a_values_list_runs_in_a_few_shapes_whatever_the_row_count(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows go in statements of power-of-two row counts (11 rows: 8, 2, 1), so only a few shapes are ever compiled;
    every row is still written and counted."""
    statements: list[str] = []

    def seen(conn: sa.Connection, sql: str, params: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return driver_execute(conn, sql, params, **kwargs)

    monkeypatch.setattr(bulk, "driver_execute", seen)
    with engine.begin() as conn:
        assert insert_many(conn, NOTIFICATION, [row(f"n{i}") for i in range(11)]) == 11
        assert insert_many(conn, NOTIFICATION, [row(f"m{i}") for i in range(5)]) == 5
    assert len(stored(engine)) == 16
    # Rows a statement holds: 11 = 8 + 2 + 1 and 5 = 4 + 1.
    assert [s.count("), (") + 1 for s in statements] == [8, 2, 1, 4, 1]
