"""Tamper matrix: every change to a signed file that matters makes ``verify`` fail; adding only
metadata in a later incremental update keeps it valid."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.devpki import DevPki
from signing.errors import InvalidPdf
from signing.pades import Level, SignOptions, sign_file
from signing.stamps import Role
from signing.tokens import TokenSession

from .helpers import add_page_content, pdfsig, verify, written

pytestmark = pytest.mark.hsm


@pytest.fixture(scope="module")
def signed(
    pki: DevPki, token: TokenSession, sample_pdf: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("tamper") / "signed.pdf"
    sign_file(
        sample_pdf, out, token.signer("leader"), SignOptions(Level.B_T, pki.tsa_url, Role.LEADER)
    )
    return out


def _fails(path: Path, roots: list[Any]) -> None:
    try:
        report = verify(path, roots)
    except InvalidPdf:
        return  # unusable input is a failure too (exit status 2)
    assert not report.ok, report.to_json()


def test_untouched_file_is_valid(signed: Path, roots: list[Any]) -> None:
    assert verify(signed, roots).ok


def test_one_byte_flipped(signed: Path, roots: list[Any], tmp_path: Path) -> None:
    data = bytearray(signed.read_bytes())
    at = data.index(b"13 Tf")  # a font size in the signed page content
    data[at + 1] = ord("4")
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    report = verify(bad, roots)
    assert not report.ok
    assert "not_intact" in report.signatures[0].problems


def test_page_text_changed_in_later_incremental_update(
    signed: Path, roots: list[Any], tmp_path: Path
) -> None:
    writer = IncrementalPdfFileWriter(BytesIO(signed.read_bytes()))
    add_page_content(writer, 0, b"BT /F1 30 Tf 100 300 Td (SUA DOI) Tj ET")
    bad = tmp_path / "edited.pdf"
    bad.write_bytes(written(writer))
    report = verify(bad, roots)
    assert not report.ok
    assert "page_modified" in report.signatures[0].problems
    assert report.signatures[0].modification == "other"
    # poppler does not see it: this is why pdfsig is never the only check
    assert "Signature is Valid" in pdfsig(bad)


def test_file_rewritten_whole(signed: Path, roots: list[Any], tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(signed))
    out = BytesIO()
    writer.write(out)
    bad = tmp_path / "rewritten.pdf"
    bad.write_bytes(out.getvalue())
    _fails(bad, roots)


def test_attachment_swapped(
    pki: DevPki, token: TokenSession, roots: list[Any], sample_pdf: Path, tmp_path: Path
) -> None:
    writer = IncrementalPdfFileWriter(BytesIO(sample_pdf.read_bytes()))
    ef = embed.EmbeddedFileObject.from_file_data(
        writer, b"Phu luc: 100 trieu dong", mime_type="text/plain"
    )
    embed.embed_file(writer, embed.FileSpec(file_spec_string="phu-luc.txt", embedded_data=ef))
    with_attachment = tmp_path / "with-attachment.pdf"
    with_attachment.write_bytes(written(writer))
    signed_path = tmp_path / "signed-attachment.pdf"
    sign_file(with_attachment, signed_path, token.signer("agency"), SignOptions(Level.B_B))
    assert verify(signed_path, roots).ok

    writer = IncrementalPdfFileWriter(BytesIO(signed_path.read_bytes()))
    swapped = embed.EmbeddedFileObject.from_file_data(
        writer, b"Phu luc: 900 trieu dong", mime_type="text/plain"
    )
    embed.embed_file(writer, embed.FileSpec(file_spec_string="phu-luc.txt", embedded_data=swapped))
    bad = tmp_path / "swapped.pdf"
    bad.write_bytes(written(writer))
    _fails(bad, roots)


def test_metadata_only_incremental_update_stays_valid(
    signed: Path, roots: list[Any], tmp_path: Path
) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(PdfReader(signed), incremental=True)
    writer.add_metadata({"/Title": "Quyết định 123/QĐ-UBND", "/Keywords": "lien thong"})
    out = BytesIO()
    writer.write(out)
    updated = tmp_path / "metadata.pdf"
    updated.write_bytes(out.getvalue())
    assert len(out.getvalue()) > signed.stat().st_size
    report = verify(updated, roots)
    assert report.ok, report.to_json()
