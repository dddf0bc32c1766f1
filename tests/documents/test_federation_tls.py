"""Mutual TLS between two servers: the receiver serves HTTPS and asks for client certificates;
a peer pinned to its client certificate cannot deliver with its token alone, nor with another
certificate of the same CA; with its own certificate the document arrives and the receipt
comes back over the verified channel."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lienthong.app import create_app
from server.accounts.agencies import AgencyRow
from server.auth.principal import Role
from server.config import load_config
from server.db import Database
from server.http.tls import server_ssl_context
from signing.devpki import DevPki
from signing.trust import TrustStore
from tests.conftest import bearer
from tests.documents.conftest import SignedFiles, free_port, send_form
from tests.documents.test_federation import (
    A_AGENCY,
    A_PROV,
    B_AGENCY,
    B_PROV,
    Side,
    _seed,
    _statuses,
    _until,
)

NOW = dt.datetime.now(dt.UTC)


class MiniCa:
    """A throwaway CA issuing a TLS server certificate for 127.0.0.1 and client certificates."""

    def __init__(self, out: Path, name: str) -> None:
        self.out = out
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self._write(f"{name}-ca.pem", self.cert.public_bytes(serialization.Encoding.PEM))

    def _write(self, name: str, data: bytes) -> Path:
        path = self.out / name
        path.write_bytes(data)
        return path

    def issue(self, name: str, *, server: bool) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return (
            self._write(f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM)),
            self._write(f"{name}.key", key_pem),
        )


class TlsSide(Side):
    async def start(self) -> None:
        config = load_config(
            env={"LIENTHONG_DATA_DIR": str(self.data), "LIENTHONG_DATABASE_URL": self.db.url}
        )
        tls = self.data / "tls"
        if tls.is_dir():
            http = replace(
                config.http,
                tls_cert=tls / "server.pem",
                tls_key=tls / "server.key",
                tls_client_ca=tls / "ca.pem",
            )
            config = replace(config, http=http)
        self.app = create_app(config, database=self.db)
        self.server = TestServer(self.app, port=self.port)
        await self.server.start_server(ssl=server_ssl_context(config.http))


@pytest.fixture
async def tls_pair(
    request: pytest.FixtureRequest, tmp_path: Path, doc_pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[TlsSide, TlsSide, dict[str, Path]]]:
    template: Path = request.getfixturevalue("sqlite_template")
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, rogue_ca = MiniCa(certs, "province"), MiniCa(certs, "rogue")
    files = {"ca": ca.pem}
    files["b_server"], files["b_server_key"] = ca.issue("b-server", server=True)
    files["a_client"], files["a_client_key"] = ca.issue("a-client", server=False)
    files["other"], files["other_key"] = ca.issue("other-client", server=False)
    files["rogue"], files["rogue_key"] = rogue_ca.issue("rogue-client", server=False)

    sides: list[TlsSide] = []
    for name in ("a", "b"):
        data = tmp_path / name
        data.mkdir()
        TrustStore(data / "trust").add(doc_pki.root_pem.read_bytes(), "dev root")
        shutil.copy(template, data / "lienthong.db")
        port = free_port()
        scheme = "https" if name == "b" else "http"
        db = Database(f"sqlite+aiosqlite:///{data / 'lienthong.db'}")
        sides.append(TlsSide(name, f"{scheme}://127.0.0.1:{port}", port, data, db, {}))
    a, b = sides
    (b.data / "tls").mkdir()
    shutil.copy(files["b_server"], b.data / "tls" / "server.pem")
    shutil.copy(files["b_server_key"], b.data / "tls" / "server.key")
    shutil.copy(ca.pem, b.data / "tls" / "ca.pem")

    a.tokens = await _seed(
        a.db,
        [AgencyRow(A_PROV, "UBND tỉnh A", None, 1), AgencyRow(A_AGENCY, "Sở Nội vụ A", A_PROV, 2)],
        [("vt_a", A_AGENCY, Role.CLERK), ("peer.b", A_PROV, Role.OFFICIAL)],
    )
    b.tokens = await _seed(
        b.db,
        [AgencyRow(B_PROV, "UBND tỉnh B", None, 1), AgencyRow(B_AGENCY, "Sở Nội vụ B", B_PROV, 2)],
        [("vt_b", B_AGENCY, Role.CLERK), ("peer.a", B_PROV, Role.OFFICIAL)],
    )
    monkeypatch.setenv("LT_TEST_SEAL_PASSWORD", doc_pki.p12_password)
    monkeypatch.setenv("LT_TOKEN_ON_B", b.tokens["peer.a"])
    monkeypatch.setenv("LT_TOKEN_ON_A", a.tokens["peer.b"])
    (a.data / "federation.toml").write_text(
        _toml_a(files, ca.pem, b.url, doc_pki), encoding="utf-8"
    )
    (b.data / "federation.toml").write_text(_toml_b(files, a.url, doc_pki), encoding="utf-8")
    try:
        yield a, b, files
    finally:
        for side in (a, b):
            await side.stop()
            await side.db.close()


def _toml_a(files: dict[str, Path], ca: Path, b_url: str, pki: DevPki) -> str:
    return f"""
server_id = "tinh-a"
seal_p12 = "{pki.p12("agency")}"
seal_password_env = "LT_TEST_SEAL_PASSWORD"
tls_client_cert = "{files["a_client"]}"
tls_client_key = "{files["a_client_key"]}"
poll_seconds = 0.2
max_backoff = 1.0
lease_seconds = 5.0

[[peers]]
name = "tinh-b"
url = "{b_url}"
token_env = "LT_TOKEN_ON_B"
login = "peer.b"
agencies = ["{B_AGENCY}"]
deliver_to = ["{A_AGENCY}"]
seal_cert = "{pki.cert("clerk")}"
server_ca = "{ca}"
"""


def _toml_b(files: dict[str, Path], a_url: str, pki: DevPki) -> str:
    return f"""
server_id = "tinh-b"
seal_p12 = "{pki.p12("clerk")}"
seal_password_env = "LT_TEST_SEAL_PASSWORD"
poll_seconds = 0.2
max_backoff = 1.0
lease_seconds = 5.0

[[peers]]
name = "tinh-a"
url = "{a_url}"
token_env = "LT_TOKEN_ON_A"
login = "peer.a"
agencies = ["{A_AGENCY}"]
deliver_to = ["{B_AGENCY}"]
seal_cert = "{pki.cert("agency")}"
client_cert = "{files["a_client"]}"
"""


async def _deliver(
    b: TlsSide, token: str, cert: tuple[Path, Path] | None, ca: Path
) -> tuple[int, dict[str, object]]:
    """POST a (bogus) message to B's federation endpoint as peer A, with or without a cert."""
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(cert[0], cert[1])
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{b.url}/api/v1/federation/messages",
            data=b"<not-edxml/>",
            headers={**bearer(token), "X-LT-Message-Id": "m-1", "X-LT-Kind": "document"},
            ssl=context,
        ) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def test_mutual_tls_pins_the_peer_client_certificate(
    tls_pair: tuple[TlsSide, TlsSide, dict[str, Path]], pdfs: SignedFiles
) -> None:
    a, b, files = tls_pair
    await b.start()
    token = b.tokens["peer.a"]

    # the token alone, another certificate of the same CA: refused before anything is read
    for cert in (None, (files["other"], files["other_key"])):
        status, body = await _deliver(b, token, cert, files["ca"])
        assert status == 403, body
        assert "chứng thư máy khách" in str(body["detail_vi"])
    # a certificate from another CA does not even finish the TLS handshake
    with pytest.raises(aiohttp.ClientError):
        await _deliver(b, token, (files["rogue"], files["rogue_key"]), files["ca"])
    # the pinned certificate passes the TLS check and reaches the message parser (bad edXML)
    status, body = await _deliver(b, token, (files["a_client"], files["a_client_key"]), files["ca"])
    assert status == 422, body

    # the whole exchange: A delivers over mutual TLS, B's signed receipt comes back: 01
    await a.start()
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{a.url}/api/v1/documents",
            data=send_form(pdfs.signed, to=[B_AGENCY]),
            headers=bearer(a.tokens["vt_a"]),
        )
        assert resp.status == 201, await resp.text()
        doc_id = (await resp.json())["id"]

    async def arrived() -> bool:
        return (await _statuses(a, doc_id))[B_AGENCY] == ["00", "01"]

    await _until(arrived)
    context = ssl.create_default_context(cafile=str(files["ca"]))
    async with (
        aiohttp.ClientSession() as s,
        s.get(
            f"{b.url}/api/v1/documents/inbox", headers=bearer(b.tokens["vt_b"]), ssl=context
        ) as resp,
    ):
        inbox = await resp.json()  # a browser (no client certificate) is served as before
    assert [d["sender"]["code"] for d in inbox["items"]] == [A_AGENCY]
