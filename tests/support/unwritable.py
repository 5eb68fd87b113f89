"""A folder that exists but where nobody (root included) can create a database file."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["unwritable_folder"]


@contextmanager
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A read-only folder in ``tmp_path``; as root (who ignores permissions) the read-only ``/proc`` instead."""
    if os.geteuid() == 0:
        yield Path("/proc")
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        yield folder
    finally:
        folder.chmod(stat.S_IRWXU)
