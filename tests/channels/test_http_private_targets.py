"""The opt-in private-target guard (``ALERTD_ALLOW_PRIVATE_TARGETS=false``) of the shared HTTP client."""

from __future__ import annotations

import io
from typing import Any

import pytest
from support.factories import make_channel, make_message
from support.receiver import Receiver

from alertd.channels.base import ChannelContext
from alertd.channels.http import PRIVATE_SETTING, is_private_address, make_client
from alertd.channels.webhook import TYPE
from alertd.errors import DeliveryError
from alertd.settings import Settings

BLOCKED = [
    "127.0.0.1",
    "127.9.9.9",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata service
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.1.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%lo",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "not-an-address",
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::5db8:d822"]


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_addresses_are_private(address: str) -> None:
    """Loopback, private, link-local, shared, multicast, reserved and embedded-IPv4 forms of them."""
    assert is_private_address(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_addresses_are_not_private(address: str) -> None:
    """Global unicast addresses, IPv4 and IPv6, are allowed through."""
    assert not is_private_address(address)


def test_private_targets_are_allowed_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Self-hosting sends to local receivers, so the guard is opt-in."""
    monkeypatch.delenv(PRIVATE_SETTING, raising=False)
    assert Settings(_env_file=None).allow_private_targets is True


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ALERTD_ALLOW_PRIVATE_TARGETS=false`` turns the guard on."""
    monkeypatch.setenv(PRIVATE_SETTING, "false")
    assert Settings(_env_file=None).allow_private_targets is False


async def _send(url: str, *, allow_private: bool) -> str:
    async with make_client(5.0, trust_env=False, allow_private=allow_private) as client:
        spec = make_channel("webhook", options={"url": url})
        channel: Any = TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))
        answer: str = await channel.send(make_message())
        return answer


async def test_with_the_guard_off_a_loopback_receiver_gets_the_delivery(receiver: Receiver) -> None:
    """The default client delivers to 127.0.0.1."""
    answer = await _send(receiver.url("/hook/t0k3n"), allow_private=True)
    assert answer == f"HTTP 200 from {receiver.base_url.removeprefix('http://')}: ok"
    assert len(receiver.requests) == 1


async def test_with_the_guard_on_a_loopback_ip_is_refused_permanently(receiver: Receiver) -> None:
    """Nothing reaches the receiver and the one-line error names the setting."""
    with pytest.raises(DeliveryError) as info:
        await _send(receiver.url("/hook/t0k3n"), allow_private=False)
    assert info.value.permanent
    assert PRIVATE_SETTING in str(info.value)
    assert "\n" not in str(info.value)
    assert receiver.requests == []


async def test_with_the_guard_on_a_name_resolving_to_loopback_is_refused(receiver: Receiver) -> None:
    """The check is on the resolved address being dialled, not on the name in the URL."""
    url = receiver.url("/hook/t0k3n").replace("127.0.0.1", "localhost")
    with pytest.raises(DeliveryError) as info:
        await _send(url, allow_private=False)
    assert info.value.permanent
    assert PRIVATE_SETTING in str(info.value)
    assert receiver.requests == []


async def test_the_guard_error_does_not_repeat_the_url(receiver: Receiver) -> None:
    """The refusal names the host only; the path may be a credential."""
    with pytest.raises(DeliveryError) as info:
        await _send(receiver.url("/hook/t0k3n"), allow_private=False)
    assert "t0k3n" not in str(info.value)


async def test_with_the_guard_on_a_proxy_from_the_environment_is_still_used(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard checks direct connections only: a proxy (here on 127.0.0.1) dials the target itself."""
    monkeypatch.setenv("HTTP_PROXY", receiver.base_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with make_client(5.0, trust_env=True, allow_private=False) as client:
        spec = make_channel("webhook", options={"url": "http://203.0.113.7/hook/t0k3n"})
        channel: Any = TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))
        # The answer names the target's host, not the proxy's.
        assert await channel.send(make_message()) == "HTTP 200 from 203.0.113.7: ok"
    assert [r.path for r in receiver.requests] == ["/hook/t0k3n"]
