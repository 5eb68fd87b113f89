"""Waiting, in tests that run a daemon on the test's own event loop, for something it does in the background."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest

__all__ = ["clear_alertd_environ", "until"]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def clear_alertd_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every ``ALERTD_*`` variable of the developer's environment for this test, so settings are the test's."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
