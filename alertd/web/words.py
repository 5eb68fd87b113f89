"""The dashboard's own words (page labels, headings, buttons, notes) in alertd's locales.

Countdowns, dates and statuses come from :mod:`alertd.messages` like every message's; these are only the pages'
labels, kept as data: one JSON table per language in ``alertd/web/labels/``, so a translator edits a file, not
code. A key missing from a language reads in English; the tests check every table has the English placeholders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from alertd.messages import LOCALES

__all__ = ["words"]


def _table(locale: str) -> dict[str, str]:
    path = files("alertd.web").joinpath("labels", f"{locale}.json")
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


@cache
def _all() -> dict[str, Mapping[str, str]]:
    english = _table("en")
    return {name: MappingProxyType(english | _table(name)) for name in {"en", *LOCALES}}


def words(locale: str) -> Mapping[str, str]:
    """The page labels in ``locale`` (English for a locale without a table)."""
    tables = _all()
    return tables.get(locale, tables["en"])
