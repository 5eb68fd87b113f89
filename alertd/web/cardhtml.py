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
        card.countdown,
        card.next_when,
        card.next_send,
        card.more,
        alone,
        locale,
    )


class CardHtml:
    """At most ``size`` cards (then it starts afresh); safe to use from several threads at once."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._html: dict[Hashable, Markup] = {}
        self._lock = threading.Lock()

    def render(self, cards: Iterable[Card], *, locale: str, series: str) -> list[Markup]:
        """The HTML of ``cards`` in order; ``series`` is the series the board is showing alone ("" for none)."""
        found: list[Markup] = []
        for card in cards:
            key = _key(card, locale, bool(series))
            html = self._html.get(key)
            if html is None:
                html = render_macro("_card.html", "card", locale=locale, c=card, series=series)
                with self._lock:
                    if len(self._html) >= self.size:
                        self._html.clear()
                    self._html[key] = html
            found.append(html)
        return found
