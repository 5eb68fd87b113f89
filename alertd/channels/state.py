"""Channel state: small facts channels keep between sends (e.g. which Slack message is an event's card).

Channels see a :class:`~alertd.channels.base.ChannelState`; the daemon gives them one in the database
(:class:`alertd.storage.channel_state.MetaState`), shared by replicas and restarts, and one-shot commands that have
no database use :class:`MemoryState`. Keys are built with :func:`state_key` so they fit the database column.
"""

from __future__ import annotations

import hashlib

__all__ = ["KEY_MAX", "MemoryState", "state_key"]

# The width of meta.key (VARCHAR(100), enforced by PostgreSQL).
KEY_MAX = 100


def state_key(*parts: str) -> str:
    """``a:b:c``, or, when that is wider than the column, its first part and a SHA-256 of the whole."""
    key = ":".join(parts)
    if len(key) <= KEY_MAX:
        return key
    # Event ids may be 200 characters long; a digest keeps the key unique and within the column.
    return f"{parts[0]}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


class MemoryState:
    """Channel state in a dict: good for one process that lives as long as its channels."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self._values.get(key)

    async def put_if_absent(self, key: str, value: str) -> str:
        return self._values.setdefault(key, value)

    async def put(self, key: str, value: str) -> None:
        self._values[key] = value

    async def replace(self, key: str, old: str, new: str) -> str:
        current = self._values.get(key)
        if current is None or current == old:
            self._values[key] = new
            return new
        return current
