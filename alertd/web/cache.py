"""A small least-recently-used cache of rendered pages, keyed by the database's live revision among other things.

Every replica computes the same key from the shared database, so a cached page is never one another replica would
render differently; a delivery, an event change, a health change or a reload changes the revision and so the key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["PageCache"]


class PageCache:
    """At most ``size`` pages; safe to use from the reader threads and the event loop at once."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: str) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
