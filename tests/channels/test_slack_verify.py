"""Slack's v0 request signature: HMAC-SHA256 of "v0:<timestamp>:<body>" verifies; any change, age or shape is
refused."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from alertd.channels.slack_verify import signature, signature_problem

# A test secret, assembled so that no scanner takes it for a real one.
SECRET = ("test-signing-" + "secret-not-real-0000").encode()
STAMP = "1531420618"
# Shaped like Slack's form-encoded interaction bodies; every id in it is made up.
BODY = (
    b"team_id=TTEST&team_domain=example&channel_id=CTEST&channel_name=desk&user_id=UTEST&user_name=ana&"
    b"command=%2Falertd&text=&response_url=https%3A%2F%2Fslack.example.org%2Fcommands%2Ftest&trigger_id=1.2.3"
)
# Computed here from the protocol's definition, independently of the code under test.
EXPECTED = "v0=" + hmac.new(SECRET, b"v0:" + STAMP.encode() + b":" + BODY, hashlib.sha256).hexdigest()
AT = datetime.fromtimestamp(int(STAMP) + 10, tz=UTC)


def test_a_request_signed_as_slack_signs_verifies() -> None:
    assert signature(SECRET, STAMP, BODY) == EXPECTED
    assert signature_problem(SECRET, STAMP, EXPECTED, BODY, now=AT) is None


@pytest.mark.parametrize(
    ("stamp", "given", "body", "now", "why"),
    [
        (STAMP, EXPECTED, BODY + b"x", AT, "does not match"),
        (STAMP, EXPECTED[:-1] + ("0" if EXPECTED[-1] != "0" else "1"), BODY, AT, "does not match"),
        (STAMP, EXPECTED, BODY, datetime.fromtimestamp(int(STAMP) + 301, tz=UTC), "5-minute window"),
        (STAMP, EXPECTED, BODY, datetime.fromtimestamp(int(STAMP) - 301, tz=UTC), "5-minute window"),
        ("", EXPECTED, BODY, AT, "Timestamp"),
        ("15314206.18", EXPECTED, BODY, AT, "Timestamp"),
        (STAMP, "", BODY, AT, "X-Slack-Signature"),
        (STAMP, "v1=" + EXPECTED[3:], BODY, AT, "X-Slack-Signature"),
        (STAMP, "v0=" + "a" * 5000, BODY, AT, "X-Slack-Signature"),
    ],
)
def test_anything_else_is_refused_with_a_reason(stamp: str, given: str, body: bytes, now: datetime, why: str) -> None:
    problem = signature_problem(SECRET, stamp, given, body, now=now)
    assert problem is not None
    assert why in problem
    assert SECRET.decode() not in problem
