"""Calendar feeds: fetching each ``sources:`` entry on its interval, reading it and syncing its events.

The fetch goes through the channels' one HTTP client (guard, TLS rules, proxies) with conditional requests and
size and time bounds (``fetch``); the refresher claims, reads and syncs, keeping the last good copy of a failing
feed (``refresh``). Reading iCalendar text is :mod:`alertd.calendar.ical`; storing is :mod:`alertd.storage`.

May import: alertd's shared modules, :mod:`alertd.channels`, :mod:`alertd.calendar`, :mod:`alertd.planning`,
:mod:`alertd.storage` and :mod:`alertd.delivery` (metrics).
"""

from __future__ import annotations

from alertd.feeds.fetch import Body, fetch_feed
from alertd.feeds.refresh import FeedRefresher

__all__ = ["Body", "FeedRefresher", "fetch_feed"]
