"""Signed PDFs from a development PKI (once per session) and the server's trust root set to it.

The dev PKI's TSA/OCSP/CRL responder runs as a child process: validation on the server is the real
one (online, hard-fail revocation), nothing is mocked.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from server.config import Config
from server.secret import Secret
from signing.devpki import DevPki, create_dev_pki
from signing.pades import Level, SignOptions, sign_pdf_async
from signing.sample import make_sample_pdf
from signing.stamps import Role as StampRole
from signing.tokens import pkcs12_signer
from signing.trust import TrustStore
from tests.conftest import AGENCY_A, AGENCY_B, PROVINCE, bearer
from tests.hsm import free_port, wait_port

__all__ = ["AGENCY_A", "AGENCY_B", "PROVINCE", "SignedFiles", "free_port", "send_form"]


@pytest.fixture(scope="session")
def doc_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevPki]:
    directory = tmp_path_factory.mktemp("docpki")
    port = free_port()
    made = create_dev_pki(directory, port, with_token=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "signing.cli", "dev-pki", "serve", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        yield made
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass(frozen=True)
class SignedFiles:
    signed: bytes
    """A decision signed by the agency (B-T): valid."""
    unsigned: bytes
    tampered: bytes
    """The signed file with one byte of page content changed."""
    foreign: bytes
    """Signed with a key whose root the server does not trust."""
    signed_path: Path


def _sign(pki: DevPki, who: str, data: bytes, level: Level = Level.B_T) -> bytes:
    signer = pkcs12_signer(pki.p12(who), Secret(pki.p12_password))
    options = SignOptions(level=level, tsa_url=pki.tsa_url, role=StampRole.INVISIBLE)
    signed, _result = asyncio.run(sign_pdf_async(data, signer, options))
    return signed


@pytest.fixture(scope="session")
def pdfs(doc_pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> SignedFiles:
    work = tmp_path_factory.mktemp("docpdfs")
    unsigned = make_sample_pdf(number="15/QĐ-UBND")
    signed = _sign(doc_pki, "agency", unsigned)
    marker = signed.find(b"Td ")
    tampered = signed[:marker] + b"Td  " + signed[marker + 4 :]
    other = create_dev_pki(work / "other", free_port(), with_token=False)
    foreign = _sign(other, "agency", unsigned, Level.B_B)
    path = work / "signed.pdf"
    path.write_bytes(signed)
    return SignedFiles(signed, unsigned, tampered, foreign, path)


@pytest.fixture
def config(config: Config, doc_pki: DevPki) -> Config:
    TrustStore(config.trust_dir).add(doc_pki.root_pem.read_bytes(), "dev root")
    return config


def send_form(
    pdf: bytes,
    *,
    to: list[str],
    number: str = "15",
    subject: str = "Về việc tổ chức hội nghị tổng kết năm",
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    **extra: Any,
) -> FormData:
    form = FormData()
    meta = {"number": number, "notation": "QĐ-UBND", "subject": subject, "to": to, **extra}
    import json

    form.add_field("metadata", json.dumps(meta, ensure_ascii=False))
    form.add_field("main", pdf, filename="quyet-dinh.pdf", content_type="application/pdf")
    for name, data in attachments:
        form.add_field("attachment", data, filename=name, content_type="application/pdf")
    return form


async def send(
    client: TestClient[Any, Any], token: str, pdf: bytes, *, to: list[str], **extra: Any
) -> str:
    resp = await client.post(
        "/api/v1/documents", data=send_form(pdf, to=to, **extra), headers=bearer(token)
    )
    body = await resp.json()
    assert resp.status == 201, body
    doc_id: str = body["id"]
    return doc_id
