"""What the command modules share: terminal tables and JSON, and opening the database they read or edit."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["migrated_engine", "print_json", "read_engine", "table"]


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def table(headers: list[str], rows: list[list[str]]) -> None:
    """Left-aligned columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def migrated_engine(url: str) -> sa.Engine:
    """An engine on ``url`` with the schema brought up to date."""
    from alertd.storage import create_engine, migrate

    engine = create_engine(url)
    migrate(engine)
    return engine


def read_engine(url: str) -> sa.Engine | None:
    """An engine on an existing, current database for a read-only command, or None when there is no database yet.

    Read-only commands must not leave a fresh ``alertd.db`` behind wherever they were run (SQLite creates the file
    on connect), nor change a schema under a running daemon.
    """
    from sqlalchemy.exc import DBAPIError

    from alertd.errors import StorageError
    from alertd.storage import create_engine, describe_db_error, schema_is_current, sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return None
    engine = create_engine(url)
    try:
        current = schema_is_current(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise StorageError(describe_db_error(url, exc)) from None
    if not current:
        engine.dispose()
        raise StorageError(
            f"database {engine.url.render_as_string(hide_password=True)}: its schema is not this alertd's; "
            "run 'alertd db upgrade' (the daemon also upgrades it at start)"
        )
    return engine
