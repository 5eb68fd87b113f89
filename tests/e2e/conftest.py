"""End-to-end fixtures: the daemon harness and two receivers on 127.0.0.1 (classes in ``e2e.harness``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.harness import Harness, Receivers


@pytest.fixture
def e2e(tmp_path: Path) -> Iterator[Harness]:
    """The end-to-end harness for one test."""
    harness = Harness(tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    """A generic webhook receiver (``hook``) and a Slack-like one (``slack``) for the daemon to deliver to."""
    servers = Receivers("hook", "slack")
    yield servers
    servers.close()
