"""The private-target guard (``ALERTD_ALLOW_PRIVATE_TARGETS=false``): which addresses are private, and the socket
factory that refuses them at connect time.

The check sits where a socket is made for an address about to be dialled, after DNS resolution and whatever cache
is in front of it: a name that re-resolves to an internal address (DNS rebinding) is still refused, and every
address of a name is judged on its own, so happy eyeballs keeps working over the allowed ones. A request sent
through a proxy dials the proxy; the target is the proxy's to police (:data:`PROXIED` marks those connections).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from contextvars import ContextVar
from typing import Any

__all__ = ["PRIVATE_SETTING", "PROXIED", "PrivateTargetError", "check_address", "guarded_socket", "is_private_address"]

PRIVATE_SETTING = "ALERTD_ALLOW_PRIVATE_TARGETS"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Set by the client around a request that goes through a proxy: the socket it opens is to the proxy.
PROXIED: ContextVar[bool] = ContextVar("alertd_http_proxied", default=False)


class PrivateTargetError(OSError):
    """A connection to a loopback, private, link-local, multicast or reserved address was refused by policy."""


def is_private_address(address: str) -> bool:
    """True unless ``address`` is a public unicast IP; unparsable text counts as private (fail closed)."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    except ValueError:
        return True
    # IPv6 forms that carry an IPv4 address reach that IPv4 host, so judge the embedded address.
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local


def check_address(host: str) -> None:
    """Raise :class:`PrivateTargetError` when ``host`` (an IP address about to be dialled) is not public."""
    if is_private_address(host):
        raise PrivateTargetError(
            errno.EACCES, f"{host} is a private, loopback or reserved address and {PRIVATE_SETTING} is false"
        )


def guarded_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """aiohttp's socket factory with the policy: called once per resolved address the connector dials."""
    family, kind, proto, _, address = addr_info
    if not PROXIED.get():
        check_address(str(address[0]))
    return socket.socket(family=family, type=kind, proto=proto)
