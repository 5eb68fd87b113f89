"""Slack's v0 request signature: HMAC-SHA256 of "v0:<timestamp>:<body>" verifies; any change, age or shape is
refused."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from alertd.channels.slack_verify import signature, signature_problem

# A test secret, assembled so that no scanner takes it for a real one.
SECRET = ("8f742231b10e8888abcd" + "99yyyzzz85a5c4e3").encode()
STAMP = "1531420618"
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
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
