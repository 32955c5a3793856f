"""A test certificate authority and the leaf certificates the test servers present.

All leaves are signed by the same CA, so a client that trusts `ca_pem` rejects the expired and the
wrong-name leaves for the right reason (expiry, name mismatch) and not for an unknown issuer.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

LOCAL_NAMES = ("localhost", "127.0.0.1")
EXPIRING_IN_DAYS = 5
OTHER_NAME = "other.invalid"


@dataclass(frozen=True)
class LeafCert:
    """Files of one server certificate: chain (leaf first), private key, and the CA that signed it."""

    names: tuple[str, ...]
    cert_chain_pem: Path
    key_pem: Path
    ca_pem: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile=str(self.cert_chain_pem), keyfile=str(self.key_pem))
        return ctx


@dataclass(frozen=True)
class CertBundle:
    """The test CA and its leaves: `localhost` (valid), `expired` (right names, past notAfter), `wrong_name`."""

    directory: Path
    ca_pem: Path
    localhost: LeafCert
    expired: LeafCert
    wrong_name: LeafCert
    expiring: LeafCert | None = None  # valid, right names, expires in EXPIRING_IN_DAYS
    ca: trustme.CA | None = None  # to issue leaves for other names (issue())

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only the test CA (hostname check on)."""
        return ssl.create_default_context(cafile=str(self.ca_pem))

    def issue(self, *names: str) -> LeafCert:
        """A valid leaf for `names` (e.g. the host names of a test zone), signed by the same CA."""
        assert self.ca is not None
        stem = "leaf-" + "-".join(n.replace("*", "star") for n in names)[:80]
        return _write_leaf(self.ca, directory=self.directory, stem=stem, names=names, ca_pem=self.ca_pem)

    def leaf(self, name: str) -> LeafCert:
        """Look a leaf up by its short name: "localhost", "expired" or "wrong_name"."""
        leaves = {"localhost": self.localhost, "expired": self.expired, "wrong_name": self.wrong_name,
                  "expiring": self.expiring}
        if name not in leaves:
            raise KeyError(f"unknown test certificate {name!r}; choose one of {sorted(leaves)}")
        return leaves[name]



def _write_leaf(
    ca: trustme.CA,
    *,
    directory: Path,
    stem: str,
    names: tuple[str, ...],
    ca_pem: Path,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> LeafCert:
    leaf = ca.issue_cert(*names, not_before=not_before, not_after=not_after)
    chain = directory / f"{stem}-chain.pem"
    key = directory / f"{stem}-key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    return LeafCert(names=names, cert_chain_pem=chain, key_pem=key, ca_pem=ca_pem)


def make_cert_bundle(directory: Path) -> CertBundle:
    """Create a fresh CA and its leaves as PEM files inside `directory` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="mailbind test CA")
    ca_pem = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    now = dt.datetime.now(dt.UTC)
    return CertBundle(
        directory=directory,
        ca_pem=ca_pem,
        localhost=_write_leaf(ca, directory=directory, stem="localhost", names=LOCAL_NAMES, ca_pem=ca_pem),
        expired=_write_leaf(
            ca,
            directory=directory,
            stem="expired",
            names=LOCAL_NAMES,
            ca_pem=ca_pem,
            not_before=now - dt.timedelta(days=60),
            not_after=now - dt.timedelta(days=1),
        ),
        wrong_name=_write_leaf(ca, directory=directory, stem="wrong-name", names=(OTHER_NAME,), ca_pem=ca_pem),
        expiring=_write_leaf(
            ca,
            directory=directory,
            stem="expiring",
            names=LOCAL_NAMES,
            ca_pem=ca_pem,
            not_before=now - dt.timedelta(days=80),
            not_after=now + dt.timedelta(days=EXPIRING_IN_DAYS, hours=12),
        ),
        ca=ca,
    )
