"""Signed one-click acknowledgement links: ``{ALERTD_PUBLIC_URL}/ack/<token>``.

The token is itsdangerous's URL-safe timed serialization of ``{"e": event id, "a": "ack", "n": nonce}``, signed
with HMAC-SHA256 (keyed by a key derived for this purpose alone from the server key) and
stamped with its creation time on alertd's clock. It names one event or occurrence and one action, expires after
``ALERTD_ACK_LINK_TTL``, and works once: the nonce is stored with the acknowledgement it made, and a second use is
refused. The nonce is derived from the message id, so a retried message carries an equivalent link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from alertd.clock import Clock
from alertd.domain import Message

__all__ = ["LINK_KINDS", "AckLinks", "LinkClaim", "LinkError"]

# Messages about one event that someone could still acknowledge.
LINK_KINDS = frozenset({"reminder", "change", "escalation"})
_SALT = "alertd.ack-link.v1"
_MAX_TOKEN = 1024


class LinkError(Exception):
    """A link that cannot be used: ``reason`` is ``expired`` or ``invalid`` (tampered, truncated, foreign)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a valid link says: acknowledge ``event_id``; ``nonce`` makes it single-use."""

    event_id: str
    action: str
    nonce: str


class AckLinks:
    """Makes and reads acknowledgement links for one key, on alertd's clock (a replay clock included)."""

    def __init__(self, key: bytes, public_url: str, ttl: timedelta, clock: Clock) -> None:
        self.base = public_url.rstrip("/")
        self.ttl = ttl

        class _Signer(TimestampSigner):
            # The one clock: links made and checked under --replay-from age in virtual time, like everything else.
            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        self._serializer = URLSafeTimedSerializer(
            key, salt=_SALT, signer=_Signer, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def token(self, event_id: str, nonce: str, action: str = "ack") -> str:
        token: str = self._serializer.dumps({"e": event_id, "a": action, "n": nonce})
        return token

    def url(self, event_id: str, nonce: str) -> str:
        return f"{self.base}/ack/{self.token(event_id, nonce)}"

    def read(self, token: str) -> LinkClaim:
        """The claim of a valid, unexpired token; LinkError otherwise (never says more than expired/invalid)."""
        if len(token) > _MAX_TOKEN:
            raise LinkError("invalid")
        try:
            data: Any = self._serializer.loads(token, max_age=int(self.ttl.total_seconds()))
        except SignatureExpired:
            raise LinkError("expired") from None
        except BadData:
            raise LinkError("invalid") from None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("e", "a", "n")):
            raise LinkError("invalid")
        return LinkClaim(event_id=data["e"], action=data["a"], nonce=data["n"])

    def decorate(self, message: Message) -> Message:
        """``message`` with its ack link, when it is about one event that is not acknowledged yet."""
        event = message.event
        if message.kind not in LINK_KINDS or event is None or event.acknowledged:
            return message
        nonce = hashlib.sha256(message.id.encode()).hexdigest()[:32]
        return message._replace(ack_url=self.url(event.id, nonce))
