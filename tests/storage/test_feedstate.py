"""A feed's row: one replica claims each interval, a failure keeps the last good copy, a new URL starts afresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from alertd.storage import claim_fetch, feed_statuses, forget_feeds, last_body, record_failure, record_fetched

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
EVERY = timedelta(minutes=15)
URL = "https://example.com/desk.ics"


def claim(engine: Engine, now: datetime = NOW, url: str = URL) -> bool:
    with engine.begin() as conn:
        return claim_fetch(conn, "desk", url, now=now, every=EVERY) is not None


def fetched(engine: Engine, body: bytes = b"BEGIN:VCALENDAR", etag: str | None = '"v1"') -> None:
    with engine.begin() as conn:
        record_fetched(conn, "desk", URL, now=NOW, body=body, etag=etag, last_modified=None, window_end=NOW)


def test_one_replica_claims_an_interval_and_the_next_interval_is_free_again(engine: Engine) -> None:
    assert claim(engine)
    assert not claim(engine, NOW + timedelta(minutes=1))
    assert claim(engine, NOW + EVERY)


def test_a_claim_hands_back_the_validators_of_the_last_good_copy(engine: Engine) -> None:
    claim(engine)
    fetched(engine)
    with engine.begin() as conn:
        got = claim_fetch(conn, "desk", URL, now=NOW + EVERY, every=EVERY)
    assert got is not None
    assert got.etag == '"v1"'
    assert got.body_sha256 is not None


def test_a_feed_pointed_elsewhere_is_claimed_at_once_without_the_old_validators(engine: Engine) -> None:
    claim(engine)
    fetched(engine)
    with engine.begin() as conn:
        got = claim_fetch(conn, "desk", "https://example.com/other.ics", now=NOW + timedelta(minutes=1), every=EVERY)
    assert got is not None
    assert got.etag is None


def test_a_failure_keeps_the_last_good_copy_and_the_first_failure_time(engine: Engine) -> None:
    claim(engine)
    fetched(engine, body=b"good")
    with engine.begin() as conn:
        record_failure(conn, "desk", "feed 'desk': answered HTTP 500", now=NOW + EVERY)
        record_failure(conn, "desk", "feed 'desk': timed out", now=NOW + 2 * EVERY)
        status = feed_statuses(conn)["desk"]
        body, _ = last_body(conn, "desk")
    assert body == b"good"
    assert (status.failing, status.last_error, status.failing_since) == (True, "feed 'desk': timed out", NOW + EVERY)


def test_a_success_after_failures_clears_the_failure(engine: Engine) -> None:
    claim(engine)
    with engine.begin() as conn:
        record_failure(conn, "desk", "boom", now=NOW)
    fetched(engine)
    with engine.begin() as conn:
        status = feed_statuses(conn)["desk"]
    assert (status.failing, status.failing_since, status.has_copy) == (False, None, True)


def test_a_not_modified_answer_keeps_the_body_and_the_window(engine: Engine) -> None:
    claim(engine)
    fetched(engine, body=b"good")
    with engine.begin() as conn:
        record_fetched(conn, "desk", URL, now=NOW + EVERY, body=None, etag='"v1"', last_modified=None, window_end=None)
        assert last_body(conn, "desk") == (b"good", NOW)


def test_rows_of_feeds_gone_from_the_calendar_are_forgotten(engine: Engine) -> None:
    claim(engine)
    with engine.begin() as conn:
        assert forget_feeds(conn, {"other"}) == ["desk"]
        assert feed_statuses(conn) == {}
