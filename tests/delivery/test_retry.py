"""The retry policy: exponential backoff with equal jitter, a cap, a give-up point."""

from __future__ import annotations

import pytest

from alertd.delivery.retry import RetryPolicy


def _lowest() -> float:
    return 0.0


def _highest() -> float:
    return 0.999999


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 5])
def test_backoff_stays_between_half_and_all_of_the_exponential_step(attempts: int) -> None:
    policy = RetryPolicy(max_attempts=10, base=2.0, cap=3600.0)
    step = 2.0 * 2 ** (attempts - 1)
    low = policy.delay(attempts, rand=_lowest)
    high = policy.delay(attempts, rand=_highest)
    assert low == pytest.approx(step / 2)
    assert high is not None
    assert step / 2 <= high < step


def test_backoff_grows_with_each_failed_attempt() -> None:
    policy = RetryPolicy(base=1.0, cap=10_000.0)
    delays = [policy.delay(n, rand=_lowest) or 0.0 for n in range(1, 6)]
    assert delays == sorted(delays)
    assert len(set(delays)) == len(delays)


def test_backoff_never_exceeds_the_cap() -> None:
    policy = RetryPolicy(max_attempts=100, base=2.0, cap=60.0)
    delay = policy.delay(40, rand=_highest)
    assert delay is not None
    assert 30.0 <= delay <= 60.0


def test_policy_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay(2, rand=_lowest) is not None
    assert policy.delay(3, rand=_lowest) is None


def test_retry_after_replaces_the_backoff_with_a_little_jitter() -> None:
    policy = RetryPolicy(base=2.0)
    assert policy.delay(1, retry_after=30.0, rand=_lowest) == pytest.approx(30.0)
    high = policy.delay(1, retry_after=30.0, rand=_highest)
    assert high is not None
    assert 30.0 <= high <= 31.0


def test_retry_after_does_not_extend_the_retry_budget() -> None:
    assert RetryPolicy(max_attempts=2).delay(2, retry_after=5.0) is None
