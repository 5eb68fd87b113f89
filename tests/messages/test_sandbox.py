"""The template worker: a render that loops, grows without end or eats memory fails alone, within its budget."""

from __future__ import annotations

import time

import pytest

from alertd.errors import TemplateError
from alertd.messages.sandbox import OUTPUT_LIMIT, TIME_LIMIT, render_parts

LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def test_renders_each_part_with_the_context() -> None:
    """Title and text come back rendered and stripped."""
    rendered = render_parts({"title": " {{ a }} ", "text": "{{ a ~ b }}"}, {"a": "x", "b": "y"})
    assert rendered == {"title": "x", "text": "xy"}


def test_a_loop_is_stopped_after_the_time_limit() -> None:
    """Two nested range(100000) loops are killed once the time limit passes, as an overrun."""
    started = time.monotonic()
    with pytest.raises(TemplateError, match=rf"ran longer than {TIME_LIMIT:g}s") as caught:
        render_parts({"text": LOOP}, {})
    assert caught.value.overrun
    assert time.monotonic() - started < TIME_LIMIT + 10  # the limit, plus killing and reaping the worker


def test_the_worker_renders_again_after_being_stopped() -> None:
    """After an overrun killed the worker, the next render starts a new one."""
    with pytest.raises(TemplateError):
        render_parts({"text": LOOP}, {})
    assert render_parts({"text": "{{ 1 + 1 }}"}, {}) == {"text": "2"}


def test_output_longer_than_the_limit_is_an_overrun() -> None:
    """A loop that writes more than OUTPUT_LIMIT characters stops there."""
    with pytest.raises(TemplateError, match=f"output longer than {OUTPUT_LIMIT} characters") as caught:
        render_parts({"text": "{% for i in range(100000) %}abcdefgh{% endfor %}"}, {})
    assert caught.value.overrun


def test_a_huge_repetition_is_refused_before_it_is_built() -> None:
    """``'a' * 10**9`` is refused by its size, not built (a gigabyte) and then counted."""
    with pytest.raises(TemplateError, match="a repetition longer than 100000 characters"):
        render_parts({"text": "{{ 'a' * 10**9 }}"}, {})


def test_memory_beyond_the_cap_is_an_overrun() -> None:
    """A string doubled forty times (a terabyte) runs into the worker's address-space cap."""
    source = "{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}"
    with pytest.raises(TemplateError, match="MiB of memory") as caught:
        render_parts({"text": source + "{{ ns.x | length }}"}, {})
    assert caught.value.overrun


def test_a_failure_on_the_data_is_not_an_overrun() -> None:
    """An undefined name is the template's own error, reported as such (not an overrun)."""
    with pytest.raises(TemplateError, match="UndefinedError: 'a' is undefined") as caught:
        render_parts({"text": "{{ a }}"}, {})
    assert not caught.value.overrun
