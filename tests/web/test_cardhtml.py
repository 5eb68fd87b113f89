"""The board's kept card HTML: a card is rendered again exactly when something it shows changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from alertd.web.board import Card, build_board
from alertd.web.cardhtml import CardHtml

from .test_board import BEFORE, EVENTS


def _upcoming(now: datetime = BEFORE) -> list[Card]:
    return build_board(EVENTS, now=now, zone=None, locale="en", next_sends={}).upcoming


def test_a_card_is_rendered_again_when_its_countdown_moves_and_kept_while_nothing_changes() -> None:
    kept = CardHtml()
    first = kept.render(_upcoming(), locale="en", series="")
    later = kept.render(_upcoming(BEFORE + timedelta(days=1)), locale="en", series="")
    assert "tomorrow" in first[0]
    assert "today" in later[0]
    assert "in 9 days" in later[1]
    again = kept.render(_upcoming(BEFORE + timedelta(days=1)), locale="en", series="")
    assert all(a is b for a, b in zip(again, later, strict=True))


def test_a_renamed_event_is_never_shown_with_its_old_card() -> None:
    kept = CardHtml()
    cards = _upcoming()
    kept.render(cards, locale="en", series="")
    renamed = replace(cards[0], event=replace(cards[0].event, title="Renamed <b>"))
    html = kept.render([renamed], locale="en", series="")[0]
    assert "Renamed &lt;b&gt;" in html


def test_each_language_has_its_own_card() -> None:
    kept = CardHtml()
    cards = _upcoming()
    assert "Next notice" in kept.render(cards, locale="en", series="")[0]
    assert "Nächste Meldung" in kept.render(cards, locale="de", series="")[0]


def test_past_its_size_only_the_board_just_rendered_is_kept() -> None:
    kept = CardHtml(size=3)
    first = kept.render(_upcoming(), locale="en", series="")
    kept.render(_upcoming(), locale="de", series="")
    assert len(kept._html) == 2  # the German board only: English and German together would pass the size
    assert kept.render(_upcoming(), locale="en", series="") == first
