"""Engines, migrations and the single-writer guard. Nothing here runs at import time."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from alertd.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "InstanceLock",
    "create_engine",
    "describe_db_error",
    "is_sqlite",
    "load_migrations",
    "migrate",
    "schema_is_current",
    "sqlite_path",
]

_MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision (tests/storage/test_db.py keeps it equal to alembic's head). A database already
# there is not migrated, so a start or a command that finds the schema current never imports alembic.
HEAD_REVISION = "0003"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def describe_db_error(url: str, exc: BaseException) -> str:
    """One line naming the database (without its password) and the underlying cause."""
    safe = make_url(url).render_as_string(hide_password=True)
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"database {safe}: {text}"


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's legacy transaction handling skips BEGIN before SELECT; SQLAlchemy emits BEGIN itself instead.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Every transaction may write; a deferred one fails with SQLITE_BUSY_SNAPSHOT under WAL despite the timeout.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_connect_reader(dbapi_conn: Any, _record: Any) -> None:
    # No journal_mode change (it writes the file) and no write lock: a reader leaves the file as it found it.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _sqlite_begin_reader(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def create_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url`` with alertd's settings (SQLite: WAL, busy timeout, BEGIN IMMEDIATE).

    ``read_only`` (SQLite): for commands that only read, the file is neither converted to WAL nor write-locked,
    and any write fails."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"bad database URL {url!r}: write e.g. sqlite:///alertd.db or postgresql://…") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_path(url)
            if path is not None and not path.parent.exists():
                raise StorageError(f"database {url}: folder {path.parent} does not exist; create it first")
            engine = sa.create_engine(url, connect_args={"timeout": 5, "check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_connect_reader if read_only else _sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin_reader if read_only else _sqlite_begin)
            return engine
        if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=_pg_args(parsed.drivername))
    except NoSuchModuleError:
        raise StorageError(f"database {url}: unsupported database type {parsed.drivername!r}") from None
    except ModuleNotFoundError as exc:
        raise StorageError(
            f"database {parsed.drivername}: driver {exc.name!r} is not installed; pip install 'alertd[postgres]'"
        ) from None


def _pg_args(driver: str) -> dict[str, Any]:
    if "psycopg" not in driver:
        return {}
    # Fail fast when the server is unreachable and notice dead peers, rather than hanging for minutes.
    return {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30}


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest version (idempotent); one-line StorageError on failure."""
    try:
        if _stored_revision(engine) == HEAD_REVISION:
            return
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
    except (OperationalError, DBAPIError) as exc:
        raise StorageError(describe_db_error(str(engine.url), exc)) from None


def load_migrations() -> None:
    """Import alembic now rather than when :func:`migrate` first needs it (a replay's fast clock must not run
    while it loads)."""
    import alembic.command  # noqa: F401


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration (HEAD_REVISION; a test keeps it alembic's head)."""
    return _stored_revision(engine) == HEAD_REVISION


def _stored_revision(engine: Engine) -> str | None:
    """The schema revision alembic recorded in the database, or None (no table yet, or not exactly one row)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


class InstanceLock:
    """Keeps a second daemon off the same SQLite file: SQLite is single-writer, PostgreSQL needs no lock."""

    def __init__(self, db_file: Path) -> None:
        self._path = db_file.with_name(db_file.name + ".lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        try:
            handle = self._path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise StorageError(
                f"database {self._path.with_suffix('')}: cannot create the lock file {self._path}: "
                f"{exc.strerror or exc}; check that the folder exists and is writable"
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StorageError(
                f"another alertd (pid {owner}) is already running on {self._path.with_suffix('')}; "
                "stop it, or use PostgreSQL to run several replicas"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


@contextmanager
def connect_or_explain(engine: Engine) -> Iterator[sa.Connection]:
    """A connection, with unreachable or unwritable databases reported as one-line StorageErrors."""
    try:
        with engine.begin() as conn:
            yield conn
    except (OperationalError, DBAPIError) as exc:
        raise StorageError(describe_db_error(str(engine.url), exc)) from None
