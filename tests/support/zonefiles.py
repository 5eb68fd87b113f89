"""An independent reader of zone files for the differential time-zone tests: whenever, whose own TZif parser shares
no code with zoneinfo, pointed at exactly the folder alertd reads.

python-dateutil cannot serve: the 2.x line the runtime allows reads the current tzdata package's slim files wrongly
(America/Vancouver as UTC+00:00).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import whenever

__all__ = ["package_zones", "reading"]


@contextmanager
def reading(folder: Path) -> Iterator[Path]:
    """Inside, whenever looks every zone up in ``folder`` first; afterwards it has its default search path again.

    A zone missing from ``folder`` is still found in the tzdata package (whenever's last resort), so a caller that
    reads another folder checks the zone's file is there.
    """
    whenever.reset_tzpath([folder])
    # Zones read from another folder earlier would otherwise be reused.
    whenever.clear_tzcache()
    try:
        yield folder
    finally:
        whenever.reset_tzpath()
        whenever.clear_tzcache()


@contextmanager
def package_zones() -> Iterator[Path]:
    """whenever reading the tzdata package's own zone files, the ones alertd plans with unless told otherwise.

    The folder is named rather than left to whenever's fallback to the package, so no other copy can stand in.
    """
    with importlib.resources.as_file(importlib.resources.files("tzdata") / "zoneinfo") as folder, reading(folder):
        yield folder
