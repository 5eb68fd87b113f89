"""Shared fixtures, one block per topic; helpers live in tests/support.

tests/ is not a package but is on sys.path (pytest puts it there), so helpers are imported as ``support.…``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from support.pki import Pki, make_pki
from support.receiver import Receiver

from alertd.channels.client import Client
from alertd.channels.http import make_client
from alertd.storage.db import create_engine, migrate

# --- HTTP: a real receiver on 127.0.0.1 and the client channels use (tests/support/receiver.py) ---


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A recording HTTP server on the test's own event loop."""
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def threaded_receiver() -> Iterator[Receiver]:
    """A recording HTTP server on its own thread, for clients in other threads or processes."""
    server = Receiver().start_in_thread()
    yield server
    server.close()


@pytest.fixture
async def http_client() -> AsyncIterator[Client]:
    """The production HTTP client, ignoring proxy settings from the environment."""
    async with make_client(5.0, trust_env=False) as client:
        yield client


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A private CA and a server certificate for 127.0.0.1 signed by it (TLS over real sockets)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


# --- end HTTP ---


# --- Databases: a migrated SQLite file per test, and a scratch PostgreSQL database per session ---

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A URL to a freshly created, uniquely named PostgreSQL database, dropped after the session.

    Skips when the server is unreachable, except in CI (``CI=true``), where a missing database must fail loudly.
    """
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"alertd_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        server = sa.make_url(PG_SERVER)
        reason = f"PostgreSQL at {server.host}:{server.port} is unreachable ({str(exc.orig).strip().splitlines()[0]})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)
    yield sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file to copy: running the migrations for every test would dominate their time."""
    path = tmp_path_factory.mktemp("template") / "alertd.db"
    eng = create_engine(f"sqlite:///{path}")
    migrate(eng)
    eng.dispose()  # closing the last connection checkpoints the WAL into the file, so a plain copy is complete
    return path


@pytest.fixture(scope="session")
def pg_migrated_url(pg_url: str) -> str:
    """The scratch PostgreSQL database with alertd's schema, migrated once per session."""
    eng = create_engine(pg_url)
    migrate(eng)
    eng.dispose()
    return pg_url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty alertd database on each backend."""
    sqlite = request.param == "sqlite"
    if sqlite:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "alertd.db")
        eng = create_engine(f"sqlite:///{tmp_path / 'alertd.db'}")
    else:
        eng = create_engine(request.getfixturevalue("pg_migrated_url"))
    yield eng
    if not sqlite:
        # The scratch database lives for the whole session: leave it empty for the next test (DELETE is much
        # faster than TRUNCATE on the few rows a test writes).
        with eng.begin() as conn:
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(table.delete())
    eng.dispose()


# --- end databases ---
