"""Storage: migrations match the models on both backends, upgrades are idempotent, one-line storage errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel
from support.unwritable import unwritable_folder

import alertd.storage
from alertd.cli.main import main
from alertd.errors import StorageError
from alertd.storage.db import (
    HEAD_REVISION,
    InstanceLock,
    create_engine,
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
    assert db_file.with_name("alertd.db.lock").exists()


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
    assert str(folder / "alertd.db.lock") in message


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
