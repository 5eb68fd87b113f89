"""The board's cards as HTML, each kept until something it shows changes.

A board is re-rendered after every delivery, but most of its cards read the same as a minute before ("in 12 days",
the same next notice): the key is everything a card shows, so a kept card is always the card as it would be
rendered now, and only the cards that changed are rendered again.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable

from markupsafe import Markup

from alertd.web.board import Card
from alertd.web.render import render_macro

__all__ = ["CardHtml"]


def _key(card: Card, locale: str, alone: bool) -> Hashable:
    e = card.event
    return (
        card.face,
        e.id,
        e.title,
        e.source,
        e.owner,
        e.acknowledged,
        card.countdown,
        card.next_when,
        card.next_send,
        card.more,
        alone,
        locale,
    )


class CardHtml:
    """Cards of recent boards; past ``size`` (about 1 kB each), only the cards of the board just rendered are kept,
    so memory stays near one board's worth. Safe to use from several threads at once."""

    def __init__(self, size: int = 5_000) -> None:
        self.size = size
        self._html: dict[Hashable, Markup] = {}
        self._lock = threading.Lock()

    def render(self, cards: Iterable[Card], *, locale: str, series: str) -> list[Markup]:
        """The HTML of ``cards`` in order; ``series`` is the series the board is showing alone ("" for none)."""
        kept = self._html
        used: dict[Hashable, Markup] = {}
        found: list[Markup] = []
        for card in cards:
            key = _key(card, locale, bool(series))
            html = kept.get(key)
            if html is None:
                html = render_macro("_card.html", "card", locale=locale, c=card, series=series)
            used[key] = html
            found.append(html)
        with self._lock:
            if len(self._html) + len(used) > self.size:
                self._html = used
            else:
                self._html.update(used)
        return found
