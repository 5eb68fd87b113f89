"""Reading a service's Retry-After: delay-seconds or an HTTP date, clamped, unreadable values ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from alertd.channels.retry_after import MAX_RETRY_AFTER, parse_retry_after

NOW = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)


def test_parse_retry_after_reads_delay_seconds() -> None:
    assert parse_retry_after("120", NOW) == pytest.approx(120.0)
    assert parse_retry_after(" 1.5 ", NOW) == pytest.approx(1.5)


def test_parse_retry_after_reads_an_http_date_against_the_given_now() -> None:
    later = NOW + timedelta(seconds=90)
    assert parse_retry_after(format_datetime(later, usegmt=True), NOW) == pytest.approx(90.0)


def test_parse_retry_after_treats_a_past_date_or_negative_delay_as_now() -> None:
    earlier = NOW - timedelta(minutes=5)
    assert parse_retry_after(format_datetime(earlier, usegmt=True), NOW) == 0.0
    assert parse_retry_after("-5", NOW) == 0.0


def test_parse_retry_after_caps_a_huge_request() -> None:
    assert parse_retry_after("99999999", NOW) == MAX_RETRY_AFTER


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "nan"])
def test_parse_retry_after_ignores_missing_or_unreadable_values(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None
