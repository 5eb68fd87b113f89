"""The per-channel token bucket on a fixed clock, its replay scaling, and the calendar's ``rate_limit`` key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alertd.calendar.load import parse_calendar
from alertd.clock import FixedClock
from alertd.delivery.ratelimit import TokenBucket, channel_limit
from alertd.domain import ChannelSpec, RateLimit
from alertd.errors import CalendarError

T0 = datetime(2025, 11, 1, tzinfo=UTC)


class ReplayLikeClock(FixedClock):
    speed = 600.0


def test_a_full_bucket_allows_its_burst() -> None:
    bucket = TokenBucket(RateLimit(per_second=1.0, burst=3), FixedClock(T0))
    assert bucket.available() == 3


def test_taking_tokens_leaves_the_rest() -> None:
    bucket = TokenBucket(RateLimit(per_second=1.0, burst=3), FixedClock(T0))
    bucket.take(3)
    assert bucket.available() == 0


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    clock = FixedClock(T0)
    bucket = TokenBucket(RateLimit(per_second=0.5, burst=2), clock)
    bucket.take(2)
    clock.advance(2)
    assert bucket.available() == 1
    clock.advance(3600)
    assert bucket.available() == 2


def test_ready_at_is_when_the_next_token_arrives() -> None:
    clock = FixedClock(T0)
    bucket = TokenBucket(RateLimit(per_second=0.5, burst=1), clock)
    bucket.take(1)
    assert bucket.ready_at() == T0 + timedelta(seconds=2)


def test_replay_clock_scales_the_rate_to_real_seconds() -> None:
    # 1 message per real second at x600 is 1 per 600 clock seconds.
    clock = ReplayLikeClock(T0)
    bucket = TokenBucket(RateLimit(per_second=1.0, burst=1), clock)
    bucket.take(1)
    assert bucket.ready_at() == T0 + timedelta(seconds=600)
    clock.advance(599)
    assert bucket.available() == 0


def test_channel_type_rate_is_the_default() -> None:
    assert channel_limit(ChannelSpec(id="s", type="slack", timezone="UTC")) == RateLimit(per_second=1.0, burst=3)
    assert channel_limit(ChannelSpec(id="c", type="console", timezone="UTC")) is None


def test_calendar_rate_limit_overrides_the_type() -> None:
    text = (
        "version: 1\nchannels:\n  s: {type: slack, url: 'https://hooks.example.com/x', rate_limit: {per_minute: 6}}\n"
    )
    cal, _ = parse_calendar(text, name="cal.yaml", environ={})
    assert channel_limit(cal.channels["s"]) == RateLimit(per_second=0.1, burst=1)


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("{per_second: 0}", "channels.c.rate_limit.per_second: must be a positive number"),
        ("{per_second: 1, per_minute: 5}", "give exactly one of 'per_second' or 'per_minute'"),
        ("{burst: 2}", "give exactly one of 'per_second' or 'per_minute'"),
        ("{per_second: 1, burst: 0}", "channels.c.rate_limit.burst: must be a whole number"),
        ("{per_second: 1, brust: 2}", "unknown key 'brust' (did you mean 'burst'?)"),
    ],
)
def test_bad_rate_limits_are_errors_with_their_line(limit: str, message: str) -> None:
    text = f"version: 1\nchannels:\n  c: {{type: console, rate_limit: {limit}}}\n"
    with pytest.raises(CalendarError) as caught:
        parse_calendar(text, name="cal.yaml", environ={})
    found = [str(i) for i in caught.value.issues]
    assert any(f.startswith("cal.yaml:3:") and message in f for f in found), found
