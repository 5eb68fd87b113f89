"""The shared budget helpers: cutting a text to a measure with an ellipsis, fitting rows by measuring."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from alertd.channels.budget import ELLIPSIS, chars, cut, fit_items, fit_list, fit_rows, utf8, utf16


def test_cut_keeps_a_text_that_fits() -> None:
    """A text within the limit comes back whole, without an ellipsis."""
    assert cut("hello", 5) == "hello"


def test_cut_ends_with_an_ellipsis_within_the_limit() -> None:
    """A longer text is cut so that text and ellipsis together meet the limit."""
    assert cut("hello world", 6) == "hello" + ELLIPSIS


def test_cut_never_splits_an_escape() -> None:
    """With an escape, the cut falls between escaped characters: no half ``&amp;``."""
    out = cut("a&b&c", 7, escape=html.escape)
    assert out == "a&amp;" + ELLIPSIS


def test_cut_counts_astral_characters_twice_in_utf16() -> None:
    """In UTF-16 code units an emoji costs two, so four emoji do not fit in five units."""
    out = cut("😀😀😀😀", 5, measure=utf16)
    assert out == "😀😀" + ELLIPSIS
    assert utf16(out) <= 5


def test_cut_in_bytes_never_splits_a_character() -> None:
    """Cut to UTF-8 bytes, the result is whole characters and within the byte limit."""
    out = cut("ééééé", 7, measure=utf8)
    assert out == "éé" + ELLIPSIS
    assert utf8(out) <= 7


def test_cut_below_the_ellipsis_is_empty() -> None:
    """A limit too small for the ellipsis itself gives an empty text."""
    assert cut("hello", 0) == ""
    assert cut("hello", 2, measure=utf8) == ""


@given(st.text(), st.integers(0, 50), st.sampled_from([chars, utf8, utf16]))
def test_cut_always_meets_its_measure(text: str, limit: int, measure: object) -> None:
    """Whatever the text, measure and limit, the cut text measures at most the limit."""
    assert callable(measure)
    out = cut(text, limit, measure=measure, escape=html.escape)
    assert measure(out) <= limit


def test_fit_rows_finds_the_largest_count_that_fits() -> None:
    """Of 700 rows of 10 characters, 37 fit in 375 characters (checked by measuring, not estimating)."""
    assert fit_rows(700, lambda k: 10 * k + 5 <= 375) == 37


def test_fit_rows_is_zero_when_nothing_fits() -> None:
    """Not even one row fitting gives zero, and no rows at all gives zero."""
    assert fit_rows(5, lambda k: k == 0) == 0
    assert fit_rows(0, lambda k: True) == 0


def test_fit_list_says_how_many_were_left_out() -> None:
    """Rows that do not fit are replaced by the caller's "…and N more" line."""
    rows = [f"row {i}" for i in range(10)]
    text = fit_list(rows, lambda shown: len(shown) <= 40, lambda left: f"…and {left} more")
    assert text == "row 0\nrow 1\nrow 2\nrow 3\n…and 6 more"


def test_fit_list_keeps_every_row_that_fits() -> None:
    """When all rows fit, there is no "more" line."""
    assert fit_list(["a", "b"], lambda shown: True, lambda left: "more") == "a\nb"


def test_fit_items_sums_sizes() -> None:
    """Items costing 3, 4 and 5 fit two at a time in 8."""
    assert fit_items([3, 4, 5], 8) == 2
    assert fit_items([3, 4, 5], 12) == 3
    assert fit_items([9], 8) == 0
