"""Slack's request signature (v0): ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">``, keyed by
the app's signing secret, with ``X-Slack-Request-Timestamp`` at most five minutes from now.

Source: api.slack.com/authentication/verifying-requests-from-slack. The comparison is constant-time; what is
refused is said without quoting the secret or the signature.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

__all__ = ["WINDOW_SECONDS", "signature", "signature_problem"]

WINDOW_SECONDS = 300
_MAX_SIGNATURE = 100


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` Slack sends with ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def signature_problem(secret: bytes, timestamp: str, given: str, body: bytes, *, now: datetime) -> str | None:
    """Why a request is not Slack's (a short phrase for the log), or None when it is."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "no or bad X-Slack-Request-Timestamp"
    if abs(now.timestamp() - int(timestamp)) > WINDOW_SECONDS:
        return "timestamp outside the 5-minute window (stale or replayed, or a clock is off)"
    if not given.startswith("v0=") or len(given) > _MAX_SIGNATURE:
        return "no or bad X-Slack-Signature"
    if not hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode()):
        return "signature does not match (wrong signing secret, or the body was changed)"
    return None
