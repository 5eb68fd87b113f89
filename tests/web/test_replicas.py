"""Sessions outlive a restart and work on every replica: the signing key comes from the shared database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from alertd.web.session import COOKIE

from .conftest import READ_TOKEN, WRITE_TOKEN, WebDaemon, client_for, csrf_of, log_in

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A database of its own for two replicas (skipped without PostgreSQL, except under CI=true)."""
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"alertd_web_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is unreachable; CI=true requires it")
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is unreachable")
    yield sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


async def test_a_session_from_one_replica_reads_and_writes_on_another(start_web: WebDaemon, pg_database: str) -> None:
    tokens = {"api_token": WRITE_TOKEN, "api_read_token": READ_TOKEN}
    first = await start_web(db_url=pg_database, **tokens)
    second = await start_web(db_url=pg_database, **tokens)
    async with client_for(first) as a, client_for(second) as b:
        await log_in(a, WRITE_TOKEN)
        cookie = a.cookies[COOKIE]
        b.cookies.set(COOKIE, cookie)
        board = await b.get("/")
        assert board.status_code == 200
        assert "Signed in: can edit" in board.text
        # A browser polling through a load balancer sees one revision, whichever replica answers.
        assert (await a.get("/live")).json() == (await b.get("/live")).json()
        # The CSRF value of a page served by the first replica is accepted by the second.
        html = (await a.get("/history", params={"state": "pending"})).text
        target = html.split('action="/history/', 1)[1].split("/cancel", 1)[0]
        done = await b.post(f"/history/{target}/cancel", data={"csrf": csrf_of(html)})
        assert done.status_code == 303


async def test_a_session_survives_a_restart_on_the_same_database(
    start_web: WebDaemon, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('restart') / 'alertd.db'}"
    before = await start_web(db_url=url, api_token=WRITE_TOKEN)
    async with client_for(before) as http:
        await log_in(http, WRITE_TOKEN)
        cookie = http.cookies[COOKIE]
    await before.shutdown()
    after = await start_web(db_url=url, api_token=WRITE_TOKEN)
    async with client_for(after) as http:
        http.cookies.set(COOKIE, cookie)
        assert "Signed in: can edit" in (await http.get("/")).text


async def test_a_configured_secret_key_signs_sessions_instead_of_the_databases(
    start_web: WebDaemon,
) -> None:
    key = "k" * 16 + "0123456789abcdef"
    one = await start_web(api_token=WRITE_TOKEN, secret_key=key)
    other = await start_web(api_token=WRITE_TOKEN, secret_key=key)  # another database, the same key
    async with client_for(one) as a, client_for(other) as b:
        await log_in(a, WRITE_TOKEN)
        b.cookies.set(COOKIE, a.cookies[COOKIE])
        assert (await b.get("/")).status_code == 200


async def test_a_session_from_another_database_is_refused_without_a_shared_key(start_web: WebDaemon) -> None:
    one = await start_web(api_token=WRITE_TOKEN)
    other = await start_web(api_token=WRITE_TOKEN)  # its own database, so its own key
    async with client_for(one) as a, client_for(other) as b:
        await log_in(a, WRITE_TOKEN)
        b.cookies.set(COOKIE, a.cookies[COOKIE])
        assert (await b.get("/")).status_code == 303
