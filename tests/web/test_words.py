"""The dashboard's labels: every language has every key, with the same placeholders as English."""

from __future__ import annotations

import re

import pytest

from alertd.messages import LOCALES
from alertd.web.words import words

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("locale", LOCALES)
def test_each_label_keeps_the_english_placeholders(locale: str) -> None:
    english, table = words("en"), words(locale)
    assert set(table) == set(english)
    for key, text in table.items():
        assert set(_PLACEHOLDER.findall(text)) == set(_PLACEHOLDER.findall(english[key])), (locale, key)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_language_file_says_every_label_itself(locale: str) -> None:
    """Falling back to English is for an unknown language, not for a label a table forgot (an acknowledgement's
    confirmation once read in English on a French page)."""
    import json
    from pathlib import Path

    import alertd.web

    folder = Path(alertd.web.__file__).parent / "labels"
    own = json.loads((folder / f"{locale}.json").read_text(encoding="utf-8"))
    assert set(own) == set(words("en"))


def test_an_unknown_locale_reads_in_english() -> None:
    assert words("xx")["board"] == "Board"


def test_every_label_a_template_names_is_in_the_english_table() -> None:
    from pathlib import Path

    import alertd.web

    folder = Path(alertd.web.__file__).parent / "templates"
    named = {m for p in folder.glob("*.html") for m in re.findall(r"\bt\.(\w+)", p.read_text(encoding="utf-8"))}
    assert named
    assert named - set(words("en")) == set()
