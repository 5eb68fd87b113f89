"""Signed acknowledgement links: one event, one action, expiring on alertd's clock, refusing any change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.factories import make_event

from alertd.clock import FixedClock
from alertd.delivery.links import AckLinks, LinkError
from alertd.domain import Kind, Message

NOW = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
KEY = b"k" * 32
TTL = timedelta(days=14)


def links(clock: FixedClock, key: bytes = KEY) -> AckLinks:
    return AckLinks(key, "https://alertd.example.org/", TTL, clock)


def message(kind: Kind = "reminder", *, acknowledged: bool = False) -> Message:
    event = make_event("truce-expiry", acknowledged=acknowledged)
    return Message(
        id="rem:x",
        kind=kind,
        channel="c",
        title="t",
        text="t",
        due_at=NOW,
        sent_at=NOW,
        event=event,
    )


def test_a_link_reads_back_as_its_event_action_and_nonce() -> None:
    made = links(FixedClock(NOW))
    claim = made.read(made.token("truce-expiry", "n1"))
    assert (claim.event_id, claim.action, claim.nonce) == ("truce-expiry", "ack", "n1")


def test_the_url_is_under_the_public_address() -> None:
    assert links(FixedClock(NOW)).url("e", "n").startswith("https://alertd.example.org/ack/")


def _flip(text: str, at: int) -> str:
    return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1 :]


@pytest.mark.parametrize("where", ["signature", "payload", "cut", "prefixed"])
def test_a_changed_or_cut_link_is_invalid(where: str) -> None:
    made = links(FixedClock(NOW))
    token = made.token("truce-expiry", "n1")
    # A base64 text's last character may carry unused bits: change one well inside each part instead.
    changed = {
        "signature": _flip(token, len(token) - 6),
        "payload": _flip(token, 4),
        "cut": token[:20],
        "prefixed": "x" + token,
    }[where]
    with pytest.raises(LinkError) as caught:
        made.read(changed)
    assert caught.value.reason == "invalid"


def test_a_link_for_another_event_cannot_be_made_from_one_for_this_event() -> None:
    """The event is inside the signature: swapping the payload part of the token breaks it."""
    made = links(FixedClock(NOW))
    one, other = made.token("a", "n"), made.token("b", "n")
    forged = other.split(".")[0] + "." + ".".join(one.split(".")[1:])
    with pytest.raises(LinkError):
        made.read(forged)


def test_a_link_signed_with_another_key_is_invalid() -> None:
    token = links(FixedClock(NOW), key=b"z" * 32).token("truce-expiry", "n1")
    with pytest.raises(LinkError) as caught:
        links(FixedClock(NOW)).read(token)
    assert caught.value.reason == "invalid"


def test_a_link_expires_after_its_lifetime_on_alertds_clock() -> None:
    clock = FixedClock(NOW)
    made = links(clock)
    token = made.token("truce-expiry", "n1")
    clock.set(NOW + TTL - timedelta(seconds=1))
    assert made.read(token).event_id == "truce-expiry"
    clock.set(NOW + TTL + timedelta(seconds=2))
    with pytest.raises(LinkError) as caught:
        made.read(token)
    assert caught.value.reason == "expired"


def test_a_huge_token_is_refused_without_decoding() -> None:
    with pytest.raises(LinkError):
        links(FixedClock(NOW)).read("a" * 100_000)


def test_reminders_get_a_link_and_the_same_message_gets_an_equivalent_one() -> None:
    made = links(FixedClock(NOW))
    first, again = made.decorate(message()), made.decorate(message())
    assert first.ack_url is not None
    assert again.ack_url is not None
    token = first.ack_url.rsplit("/", 1)[1]
    assert made.read(token).nonce == made.read(again.ack_url.rsplit("/", 1)[1]).nonce


@pytest.mark.parametrize("kind", ["countdown", "test", "admin", "ack"])
def test_messages_not_about_one_open_event_get_no_link(kind: Kind) -> None:
    assert links(FixedClock(NOW)).decorate(message(kind)).ack_url is None


def test_an_acknowledged_event_gets_no_link() -> None:
    assert links(FixedClock(NOW)).decorate(message(acknowledged=True)).ack_url is None
