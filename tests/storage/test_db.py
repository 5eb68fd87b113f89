"""Storage: migrations match the models on both backends, upgrades are idempotent, one-line storage errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex
from sqlmodel import SQLModel
from support.unwritable import unwritable_folder

import alertd.storage
from alertd.cli.main import main
from alertd.errors import StorageError
from alertd.storage.db import (
    HEAD_REVISION,
    InstanceLock,
    create_engine,
    create_reader_engine,
    describe_db_error,
    migrate,
    schema_is_current,
)

UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/x"


def test_migrations_produce_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diffs = compare_metadata(context, SQLModel.metadata)
    assert diffs == []


def test_the_head_revision_constant_is_alembics_head(engine: Engine) -> None:
    """migrate() skips alembic when the stored revision is HEAD_REVISION: that must be the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(Path(alertd.storage.__file__).with_name("migrations")))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrate_twice_is_harmless_and_leaves_the_schema_current(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)
    assert schema_is_current(engine)


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``alertd.cli.main.main`` in process without the developer's ALERTD_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("clean_env")
def test_db_upgrade_command_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert all("schema is up to date" in line for line in out)


@pytest.mark.usefixtures("clean_env")
def test_db_upgrade_command_upgrades_postgresql(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", pg_url]) == 0
    assert main(["db", "upgrade", "--db", pg_url]) == 0
    assert "schema is up to date" in capsys.readouterr().out


def test_instance_lock_refuses_a_second_holder_with_one_line(tmp_path: Path) -> None:
    db_file = tmp_path / "alertd.db"
    first = InstanceLock(db_file)
    first.acquire()
    try:
        with pytest.raises(StorageError) as caught:
            InstanceLock(db_file).acquire()
    finally:
        first.release()
    message = str(caught.value)
    assert "\n" not in message
    assert "another alertd" in message
    assert str(db_file) in message


def test_instance_lock_can_be_taken_again_after_release(tmp_path: Path) -> None:
    db_file = tmp_path / "alertd.db"
    first = InstanceLock(db_file)
    first.acquire()
    first.release()
    second = InstanceLock(db_file)
    second.acquire()
    second.release()
    assert not db_file.with_name("alertd.db.lock").exists()


def test_describe_db_error_names_an_unreachable_postgresql_in_one_line() -> None:
    engine = create_engine(UNREACHABLE_PG)
    with pytest.raises(DBAPIError) as caught:
        engine.connect()
    engine.dispose()
    text = describe_db_error(UNREACHABLE_PG, caught.value)
    assert "\n" not in text
    assert text.startswith(f"database {UNREACHABLE_PG}: ")
    assert "refused" in text.lower()


def test_migrating_an_unreachable_postgresql_raises_a_one_line_storage_error() -> None:
    engine = create_engine(UNREACHABLE_PG)
    with pytest.raises(StorageError) as caught:
        migrate(engine)
    engine.dispose()
    message = str(caught.value)
    assert "\n" not in message
    assert message.count("database ") == 1


def test_describe_db_error_hides_the_password() -> None:
    url = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/x"
    text = describe_db_error(url, RuntimeError("connection refused\nmore detail"))
    assert "hunter2" not in text
    assert text.endswith("connection refused")


def test_unwritable_sqlite_folder_gives_one_line(tmp_path: Path) -> None:
    with unwritable_folder(tmp_path) as folder:
        engine = create_engine(f"sqlite:///{folder / 'alertd.db'}")
        with pytest.raises(StorageError) as caught:
            migrate(engine)
        engine.dispose()
    message = str(caught.value)
    assert "\n" not in message
    assert str(folder / "alertd.db") in message


def test_missing_sqlite_folder_is_reported_before_connecting(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        create_engine(f"sqlite:///{tmp_path / 'nowhere' / 'alertd.db'}")


def test_instance_lock_in_an_unwritable_folder_gives_one_line(tmp_path: Path) -> None:
    with unwritable_folder(tmp_path) as folder, pytest.raises(StorageError) as caught:
        InstanceLock(folder / "alertd.db").acquire()
    message = str(caught.value)
    assert "\n" not in message
    assert str(folder / "alertd.db") in message


@pytest.mark.parametrize("link", [os.symlink, os.link])
def test_instance_lock_refuses_the_same_file_through_a_link(tmp_path: Path, link: Any) -> None:
    """The lock belongs to the file, not its name: a symbolic or hard link to a locked database is refused."""
    db_file = tmp_path / "alertd.db"
    first = InstanceLock(db_file)
    first.acquire()
    other = tmp_path / "other"
    other.mkdir()
    link(db_file, other / "same.db")
    try:
        with pytest.raises(StorageError, match=r"^another alertd \(pid \d+\) is already running on .*same\.db"):
            InstanceLock(other / "same.db").acquire()
    finally:
        first.release()


def test_a_planted_lock_file_link_is_never_written(tmp_path: Path) -> None:
    """No lock file is opened for writing: a symbolic link where the old one was leaves its target untouched."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    (tmp_path / "alertd.db.lock").symlink_to(target)
    lock = InstanceLock(tmp_path / "alertd.db")
    lock.acquire()
    lock.release()
    assert target.read_text(encoding="utf-8") == "keep me"


def test_a_planted_database_link_to_a_missing_file_is_refused(tmp_path: Path) -> None:
    """A dangling symbolic link where the database will be is not followed to create the file it names."""
    (tmp_path / "alertd.db").symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(StorageError, match=r"a symbolic link to a missing file"):
        InstanceLock(tmp_path / "alertd.db").acquire()
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_fifo_instead_of_the_database_is_refused_without_hanging(tmp_path: Path) -> None:
    """A FIFO is opened non-blocking and refused as not a regular file."""
    os.mkfifo(tmp_path / "alertd.db")
    with pytest.raises(StorageError, match=r"not a regular file$"):
        InstanceLock(tmp_path / "alertd.db").acquire()


def test_the_database_alertd_creates_is_private(tmp_path: Path) -> None:
    """Whatever the umask, the SQLite file and its WAL and shared-memory files are 0600."""
    old = os.umask(0o022)
    try:
        engine = create_engine(f"sqlite:///{tmp_path / 'alertd.db'}")
        migrate(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
        engine.dispose()
    finally:
        os.umask(old)
    assert modes["alertd.db"] == 0o600
    assert set(modes.values()) == {0o600}, modes


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    """alertd sets the mode only of files it creates; an operator's choice stays."""
    db_file = tmp_path / "alertd.db"
    db_file.touch(mode=0o640)
    db_file.chmod(0o640)
    lock = InstanceLock(db_file)
    lock.acquire()
    lock.release()
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o640


def test_the_reader_engine_reads_sqlite_read_only_without_blocking_the_writer(tmp_path: Path) -> None:
    """API readers see committed rows, cannot write, and hold no lock that stops the writer (WAL, deferred)."""
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    writer = create_engine(url)
    migrate(writer)
    reader = create_reader_engine(url, readers=2)
    try:
        with reader.begin() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM event").scalar_one()
            with writer.begin() as w:  # BEGIN IMMEDIATE succeeds while the read transaction is open
                w.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        with reader.begin() as conn:
            assert conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'k'").scalar_one() == "v"
        with pytest.raises(DBAPIError, match="readonly"), reader.begin() as conn:
            conn.exec_driver_sql("DELETE FROM meta")
    finally:
        reader.dispose()
        writer.dispose()


def test_the_reader_engine_on_postgresql_has_its_own_bounded_pool(pg_url: str) -> None:
    """On PostgreSQL readers get a pool of their own, ``readers`` connections at most."""
    reader = create_reader_engine(pg_url, readers=3)
    try:
        with reader.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
        assert reader.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        reader.dispose()


def test_a_postgresql_engine_gives_the_partial_indexes_their_condition() -> None:
    """The models name only SQLite's condition at import (no PostgreSQL dialect on SQLite); a PostgreSQL engine adds
    the same condition for PostgreSQL, so its DDL makes the migrations' partial indexes."""
    engine = create_engine("postgresql://nobody@127.0.0.1:1/none")  # never connects
    try:
        made = {
            str(index.name): str(CreateIndex(index).compile(dialect=engine.dialect))
            for table in SQLModel.metadata.sorted_tables
            for index in table.indexes
            if index.name in ("ix_notification_due_active", "ux_acknowledgement_active")
        }
    finally:
        engine.dispose()
    assert made["ix_notification_due_active"].endswith("WHERE state IN ('pending', 'retrying')")
    assert made["ux_acknowledgement_active"].endswith("WHERE revoked_at IS NULL")


def test_a_read_only_engine_reads_without_changing_the_file(tmp_path: Path) -> None:
    """The engine of read-only commands reads a migrated database, leaves its bytes as they were, refuses writes."""
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    writer = create_engine(url)
    migrate(writer)
    writer.dispose()
    before = (tmp_path / "alertd.db").read_bytes()
    reader = create_engine(url, read_only=True)
    try:
        assert schema_is_current(reader)
        with pytest.raises(DBAPIError, match=r"readonly|read-only|query_only"), reader.begin() as conn:
            conn.exec_driver_sql("DELETE FROM notification")
    finally:
        reader.dispose()
    assert (tmp_path / "alertd.db").read_bytes() == before
