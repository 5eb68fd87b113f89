from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import fields

import pytest
from babel import Locale

from alertd.domain import EVENT_STATUSES
from alertd.messages.i18n import LOCALES, phrases

OTHERS = [loc for loc in LOCALES if loc != "en"]
# Tables keyed by a word (a status, a kind of change) rather than by a CLDR plural category.
KEYED = ("statuses", "change_titles")


def _placeholders(pattern: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}


@pytest.mark.parametrize("locale", OTHERS)
def test_every_phrase_keeps_the_english_placeholders(locale: str) -> None:
    """A translation may reorder ``{title}`` and ``{distance}`` but not drop or misspell them."""
    english, table = phrases("en"), phrases(locale)
    for f in fields(table):
        ours, theirs = getattr(english, f.name), getattr(table, f.name)
        if isinstance(ours, str) and f.name not in ("date_pattern", "date_skeleton"):
            assert _placeholders(theirs) == _placeholders(ours), f.name
        elif isinstance(ours, Mapping) and f.name in KEYED:
            assert set(theirs) == set(ours), f.name
            assert all(_placeholders(theirs[k]) == _placeholders(ours[k]) for k in ours), f.name
        elif isinstance(ours, Mapping):
            assert {_placeholders(p) == _placeholders(ours["other"]) for p in theirs.values()} == {True}, f.name


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_tables_use_only_the_locales_cldr_categories(locale: str) -> None:
    """Each plural table has "other" and no category the language does not have."""
    categories = Locale.parse(locale).plural_form.tags | {"other"}
    table = phrases(locale)
    for f in fields(table):
        value = getattr(table, f.name)
        if isinstance(value, Mapping) and f.name not in KEYED:
            assert "other" in value, f.name
            assert set(value) <= categories, f.name


@pytest.mark.parametrize("locale", LOCALES)
def test_every_status_is_translated(locale: str) -> None:
    """Each event status has a word in each locale."""
    assert set(phrases(locale).statuses) == set(EVENT_STATUSES)
