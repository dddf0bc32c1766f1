"""Federation settings: ``federation.toml`` in the data directory (or ``$LIENTHONG_FEDERATION``).

Without the file the server exchanges within itself only. Example::

    server_id = "tinh-a"
    seal_p12 = "/etc/lienthong/seal.p12"       # the server's seal key, signs receipts
    seal_password_env = "LIENTHONG_SEAL_PASSWORD"

    [[peers]]
    name = "tinh-b"
    url = "https://lienthong.tinh-b.gov.vn"
    token_env = "LIENTHONG_PEER_TINH_B_TOKEN"   # our API token on that server
    login = "peer.tinh-a"                       # the account that server uses here
    agencies = ["000.00.00.H97"]               # agencies reached through it
    deliver_to = ["*"]                          # our agencies it may deliver to
    seal_cert = "/etc/lienthong/peers/tinh-b-seal.pem"   # pins its receipts
    # mutual TLS (optional; see docs/documents.md "Mutual TLS"):
    server_ca = "/etc/lienthong/peers/tinh-b-ca.pem"     # verifies its HTTPS certificate
    client_cert = "/etc/lienthong/peers/tinh-b-client.pem"  # it must present this one here

    # our client certificate, presented to every peer over HTTPS
    tls_client_cert = "/etc/lienthong/tls/client.pem"
    tls_client_key = "/etc/lienthong/tls/client.key"
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509

from server.errors import ConfigError
from signing.trust import load_certs


@dataclass(frozen=True)
class Peer:
    name: str
    url: str
    token: str
    """Bearer token presented to the peer (read from ``token_env``)."""
    login: str
    """Login of the peer's machine account on this server."""
    agencies: frozenset[str]
    deliver_to: frozenset[str]
    seal_cert: asn1_x509.Certificate
    server_ca: Path | None = None
    """CA certificates that verify the peer's HTTPS certificate (default: the system's)."""
    client_cert_sha256: str | None = None
    """SHA-256 of the client certificate the peer must present when it delivers here."""

    def may_deliver_to(self, code: str) -> bool:
        return "*" in self.deliver_to or code in self.deliver_to


@dataclass(frozen=True)
class FederationConfig:
    server_id: str
    seal_p12: Path
    seal_password: str
    peers: tuple[Peer, ...]
    poll_seconds: float = 0.5
    """How often the outbox looks for due messages when nothing wakes it."""
    max_backoff: float = 300.0
    """Longest wait between two attempts of one message (exponential from 1 s)."""
    lease_seconds: float = 60.0
    """A message being sent is not picked again before this (a crashed sender's lease expires)."""
    tls_client_cert: Path | None = None
    """Our client certificate (PEM), presented to peers over HTTPS."""
    tls_client_key: Path | None = None

    def client_ssl(self, peer: Peer) -> ssl.SSLContext | bool:
        """How to open HTTPS to ``peer``: its CA, and our client certificate when we have one."""
        if peer.server_ca is None and self.tls_client_cert is None:
            return True  # aiohttp's default verification
        context = ssl.create_default_context(
            cafile=str(peer.server_ca) if peer.server_ca is not None else None
        )
        if self.tls_client_cert is not None:
            context.load_cert_chain(self.tls_client_cert, self.tls_client_key)
        return context

    def peer_for_agency(self, code: str) -> Peer | None:
        return next((p for p in self.peers if code in p.agencies), None)

    def peer_by_login(self, login: str) -> Peer | None:
        return next((p for p in self.peers if p.login == login), None)

    def peer_named(self, name: str) -> Peer | None:
        return next((p for p in self.peers if p.name == name), None)


def _str(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key}", "must be a non-empty string")
    return value.strip()


def _codes(raw: dict[str, Any], key: str, where: str) -> frozenset[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}.{key}", "must be a list of agency codes")
    return frozenset(v.strip() for v in value)


def _env(name: str, key: str, env: dict[str, str]) -> str:
    value = env.get(name, "")
    if not value:
        raise ConfigError(key, f"environment variable {name} is not set")
    return value


def _optional_file(base: Path, raw: dict[str, Any], key: str, where: str) -> Path | None:
    if raw.get(key) is None:
        return None
    path = base / _str(raw, key, where)
    if not path.is_file():
        raise ConfigError(f"{where}.{key}", f"file {path} does not exist")
    return path


def _cert_sha256(path: Path | None, key: str) -> str | None:
    if path is None:
        return None
    try:
        der = ssl.PEM_cert_to_DER_cert(path.read_text(encoding="ascii"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(key, f"{path} is not a PEM certificate: {exc}") from None
    return hashlib.sha256(der).hexdigest()


def load_federation(data_dir: Path, env: dict[str, str] | None = None) -> FederationConfig | None:
    env = dict(os.environ if env is None else env)
    path = Path(env["LIENTHONG_FEDERATION"]) if env.get("LIENTHONG_FEDERATION") else None
    path = path or data_dir / "federation.toml"
    if not path.is_file():
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("federation", f"{path} cannot be read: {exc}") from None
    base = path.parent
    peers = []
    for i, item in enumerate(raw.get("peers", [])):
        where = f"federation.peers[{i}]"
        cert_path = base / _str(item, "seal_cert", where)
        try:
            certs = load_certs(cert_path.read_bytes(), str(cert_path))
        except OSError as exc:
            raise ConfigError(f"{where}.seal_cert", f"cannot read {cert_path}: {exc}") from None
        peers.append(
            Peer(
                name=_str(item, "name", where),
                url=_str(item, "url", where).rstrip("/"),
                token=_env(_str(item, "token_env", where), f"{where}.token_env", env),
                login=_str(item, "login", where).lower(),
                agencies=_codes(item, "agencies", where),
                deliver_to=_codes(item, "deliver_to", where),
                seal_cert=certs[0],
                server_ca=_optional_file(base, item, "server_ca", where),
                client_cert_sha256=_cert_sha256(
                    _optional_file(base, item, "client_cert", where), f"{where}.client_cert"
                ),
            )
        )
    tls_client_cert = _optional_file(base, raw, "tls_client_cert", "federation")
    tls_client_key = _optional_file(base, raw, "tls_client_key", "federation")
    if (tls_client_cert is None) != (tls_client_key is None):
        raise ConfigError(
            "federation.tls_client_key", "tls_client_cert and tls_client_key go together"
        )
    if tls_client_cert is not None:
        try:
            ssl.create_default_context().load_cert_chain(tls_client_cert, tls_client_key)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError("federation.tls_client_cert", f"cannot load: {exc}") from None
    return FederationConfig(
        server_id=_str(raw, "server_id", "federation"),
        seal_p12=base / _str(raw, "seal_p12", "federation"),
        seal_password=_env(
            _str(raw, "seal_password_env", "federation"), "federation.seal_password_env", env
        ),
        peers=tuple(peers),
        poll_seconds=float(raw.get("poll_seconds", 0.5)),
        max_backoff=float(raw.get("max_backoff", 300.0)),
        lease_seconds=float(raw.get("lease_seconds", 60.0)),
        tls_client_cert=tls_client_cert,
        tls_client_key=tls_client_key,
    )
