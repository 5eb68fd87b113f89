"""What the command modules share: terminal tables and JSON, and opening the database they read or edit."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["migrated_engine", "print_json", "table"]


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
