"""Engines, migrations and the single-writer guard. Nothing here runs at import time."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import QueuePool

from alertd.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "InstanceLock",
    "create_engine",
    "create_private_file",
    "create_reader_engine",
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
HEAD_REVISION = "0008"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for other backends, in-memory databases and URLs that do not
    parse (:func:`create_engine` explains those)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
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


def _null(_value: None) -> None:
    return None


def _quick_sqlite_binding() -> None:
    """Adapters that bind None and booleans exactly as Python's sqlite3 already does (NULL, 0 and 1), registered so
    that it finds them at once.

    Without one, sqlite3 searches for an adapter of every None or bool parameter and fails through a formatted
    AttributeError each time: about 3,000 instructions a parameter, and storing an outcome binds three. The
    registry is the module's, for the whole process; these entries change no value that is bound.
    """
    sqlite3.register_adapter(bool, int)
    sqlite3.register_adapter(type(None), _null)


def _sqlite_begin(conn: Any) -> None:
    # Every transaction may write; a deferred one fails with SQLITE_BUSY_SNAPSHOT under WAL despite the timeout.
    # Straight through the driver: the dispatcher begins a transaction every round, and SQLAlchemy's statement
    # machinery cost three times the BEGIN itself. Its errors are raised as SQLAlchemy's, as exec_driver_sql would.
    try:
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE").close()
    except sqlite3.Error as exc:
        raise DBAPIError.instance("BEGIN IMMEDIATE", (), exc, sqlite3.Error) from exc


def _sqlite_connect_reader(dbapi_conn: Any, _record: Any) -> None:
    # No journal_mode change (it writes the file) and no write lock: a reader leaves the file as it found it.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _sqlite_begin_reader(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def create_engine(url: str, *, pool_size: int | None = None, read_only: bool = False) -> Engine:
    """An engine for ``url`` with alertd's settings (SQLite: WAL, busy timeout, BEGIN IMMEDIATE).

    ``read_only`` (SQLite): for commands that only read, the file is neither converted to WAL nor write-locked,
    and any write fails."""
    # The URL is never quoted when it does not parse: it may hold a password.
    example = "write e.g. sqlite:///alertd.db or postgresql://user@host:5432/alertd"
    try:
        parsed = make_url(url)
        if "\x00" in url or "\x00" in (parsed.database or ""):
            raise StorageError(f"bad database URL: it contains a NUL character; {example}")
    except ArgumentError:
        raise StorageError(f"bad database URL: not of the form scheme://…; {example}") from None
    except ValueError:
        # SQLAlchemy reads the port with int(): "host:abc" or an unclosed "[::1".
        raise StorageError(
            f"bad database URL: the port is not a number (or an IPv6 host lacks its ']'); {example}"
        ) from None
    try:
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_path(url)
            if path is not None and not path.parent.exists():
                raise StorageError(f"database {url}: folder {path.parent} does not exist; create it first")
            _quick_sqlite_binding()
            engine = sa.create_engine(url, connect_args={"timeout": 5, "check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_connect_reader if read_only else _sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin_reader if read_only else _sqlite_begin)
            return engine
        if parsed.get_backend_name() == "postgresql":
            from alertd.storage.models import postgresql_partial_indexes

            postgresql_partial_indexes()
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
        pool = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 0}
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=_pg_args(parsed.drivername), **pool)
    except NoSuchModuleError:
        raise StorageError(
            f"database {parsed.drivername}: unsupported database type; alertd supports sqlite and postgresql"
        ) from None
    except ModuleNotFoundError as exc:
        hint = (
            "pip install 'alertd[postgres]'"
            if parsed.get_backend_name() == "postgresql"
            else ("alertd supports sqlite and postgresql")
        )
        raise StorageError(f"database {parsed.drivername}: driver {exc.name!r} is not installed; {hint}") from None


def create_reader_engine(url: str, *, readers: int) -> Engine:
    """A second engine for readers (the HTTP API) that never queues behind or blocks the dispatcher's writes.

    SQLite: the same file opened read-only, with deferred transactions (every connection of :func:`create_engine`
    takes the write lock at BEGIN). PostgreSQL: a pool of its own, ``readers`` connections at most.
    """
    path = sqlite_path(url)
    if path is None:
        return create_engine(url, pool_size=readers)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    engine = sa.create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=5, check_same_thread=False),
        poolclass=QueuePool,
        pool_size=readers,
        max_overflow=0,
    )
    sa.event.listen(engine, "connect", _sqlite_connect_reader)
    sa.event.listen(engine, "begin", _sqlite_begin_reader)
    return engine


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
    path = sqlite_path(str(engine.url))
    if path is not None:
        create_private_file(path)
    try:
        if _stored_revision(engine) == HEAD_REVISION:
            return
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
        from alertd.storage.stored import forget_stored

        with engine.begin() as conn:
            # A migration may rewrite event rows: a running replica's kept view of them must not outlive it.
            forget_stored(conn)
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


def create_private_file(path: Path) -> bool:
    """Create the SQLite file ``path`` readable by its owner only (0600), unless it exists; True when created.

    Made here rather than by SQLite, which follows the umask (and its -wal and -shm files copy the file's mode).
    ``O_EXCL`` with ``O_CREAT`` never follows a symbolic link, so a link planted where the file will be cannot
    make alertd create or truncate its target.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        if path.is_symlink() and not path.exists():
            raise StorageError(
                f"database {path}: a symbolic link to a missing file; remove it or point it at the database"
            ) from None
        return False
    except OSError as exc:
        raise StorageError(
            f"database {path}: cannot create it: {exc.strerror or exc}; check that the folder exists and is writable"
        ) from None
    os.close(fd)
    return True


def _lock_owner(st: os.stat_result) -> str:
    """The pid holding a flock on the file ``st`` describes, from /proc/locks (Linux); "" when unknown."""
    wanted = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        lines = Path("/proc/locks").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == wanted:
            return fields[4]
    return ""


class InstanceLock:
    """Keeps a second daemon off the same SQLite file: SQLite is single-writer, PostgreSQL needs no lock.

    The lock is a ``flock`` on the database file itself, so it belongs to the file's inode: a second daemon that
    reaches the file through a symbolic link, a hard link or another spelling of the path is refused too. (SQLite
    uses POSIX record locks, which are independent of ``flock`` on Linux; the descriptor stays open until
    :meth:`release`, after the daemon's engines are disposed.) No separate lock file exists to be planted.
    """

    def __init__(self, db_file: Path) -> None:
        self._path = db_file
        self._fd: int | None = None

    def acquire(self) -> None:
        create_private_file(self._path)
        try:
            # Non-blocking: a FIFO put where the database should be must not hang the start.
            fd = os.open(self._path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise StorageError(f"database {self._path}: cannot open it: {exc.strerror or exc}") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise StorageError(f"database {self._path}: not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = _lock_owner(st)
            os.close(fd)
            pid = f" (pid {owner})" if owner else ""
            raise StorageError(
                f"another alertd{pid} is already running on {self._path} (the same file, however it is named); "
                "stop it, or use PostgreSQL to run several replicas"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextmanager
def connect_or_explain(engine: Engine) -> Iterator[sa.Connection]:
    """A connection, with unreachable or unwritable databases reported as one-line StorageErrors."""
    try:
        with engine.begin() as conn:
            yield conn
    except (OperationalError, DBAPIError) as exc:
        raise StorageError(describe_db_error(str(engine.url), exc)) from None
