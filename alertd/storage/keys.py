"""The server key that signs dashboard sessions and acknowledgement links.

``ALERTD_SECRET_KEY`` when set. Unset, a random key is made once and kept in the database's ``meta`` table, so a
restart and every replica on the same database agree without configuration; whoever can read the database can then
forge a session, which is why production deployments should set the setting (docs/security.md). Each use derives
its own key from the server key (:func:`purpose_key`), so a signed link can never pass as a session cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from pydantic import SecretStr

from alertd.storage.bulk import insert_ignoring_duplicates
from alertd.storage.models import Meta

__all__ = ["purpose_key", "server_key"]

_META_KEY = "server_key"
_META = Meta.__table__  # type: ignore[attr-defined]


def server_key(conn: sa.Connection, configured: SecretStr | None) -> bytes:
    """The configured key, or the database's own (made on first use; the first replica to store one wins)."""
    if configured is not None:
        return configured.get_secret_value().encode()
    insert_ignoring_duplicates(conn, _META, [{"key": _META_KEY, "value": secrets.token_urlsafe(32)}], key="key")
    stored: str = conn.execute(sa.select(_META.c.value).where(_META.c.key == _META_KEY)).scalar_one()
    return stored.encode()


def purpose_key(key: bytes, purpose: str) -> bytes:
    """A key for one use only (``"session"``, ``"ack-link"``), derived from the server key."""
    return hmac.new(key, b"alertd:" + purpose.encode(), hashlib.sha256).digest()
