"""A private certificate authority and a server certificate for 127.0.0.1, for TLS tests over real sockets."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    server: ssl.SSLContext


def make_pki(folder: Path) -> Pki:
    """A CA (its certificate written to ``folder/ca.pem``) and a server context with a certificate it signed."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Pki(ca_file=ca_file, server=server)
