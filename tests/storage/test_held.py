from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.storage import HeldConnection
from alertd.storage.models import Meta

META = Meta.__table__  # type: ignore[attr-defined]


def checkouts(engine: Engine) -> list[object]:
    """Every checkout from ``engine``'s pool from now on, recorded as it happens."""
    seen: list[object] = []
    sa.event.listen(engine, "checkout", lambda dbapi_conn, record, proxy: seen.append(dbapi_conn))
    return seen


def write(conn: sa.Connection, key: str) -> None:
    conn.execute(META.insert().values(key=key, value="v"))


def keys(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(META.c.key)).scalars())


def test_rounds_share_one_checkout_and_each_commits(engine: Engine) -> None:
    """Round after round runs on the connection checked out for the first, each its own committed transaction."""
    seen = checkouts(engine)
    held = HeldConnection(engine)
    for key in ("a", "b", "c"):
        with held.begin() as conn:
            write(conn, key)
        assert key in keys(engine)
    assert len(seen) == 1 + 3  # one for the rounds, one per read above
    assert held.held
    held.release()


def test_release_gives_the_connection_back_to_the_pool(engine: Engine) -> None:
    held = HeldConnection(engine)
    with held.begin() as conn:
        write(conn, "a")
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    held.release()
    assert (held.held, engine.pool.checkedout()) == (False, 0)  # type: ignore[attr-defined]
    held.release()  # nothing held: a no-op


def test_a_failed_round_is_rolled_back_and_the_next_round_checks_out_afresh(engine: Engine) -> None:
    """A connection whose round failed is never used again: the next round starts on a fresh checkout."""
    seen = checkouts(engine)
    held = HeldConnection(engine)
    with held.begin() as conn:
        write(conn, "a")
    with pytest.raises(sa.exc.IntegrityError), held.begin() as conn:
        write(conn, "a")
    assert (held.held, engine.pool.checkedout()) == (False, 0)  # type: ignore[attr-defined]
    with held.begin() as conn:
        write(conn, "b")
    assert len(seen) == 2
    assert keys(engine) == {"a", "b"}
    held.release()


def test_an_invalidated_connection_is_replaced_before_the_next_round(engine: Engine) -> None:
    """A connection the pool invalidated (the server went away) is dropped, not reused."""
    held = HeldConnection(engine)
    with held.begin() as conn:
        write(conn, "a")
    conn.invalidate()
    with held.begin() as fresh:
        write(fresh, "b")
    assert fresh is not conn
    assert keys(engine) == {"a", "b"}
    held.release()
