"""The file store (by SHA-256, never rewritten, damage detected) and what pypdf reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from documents.errors import BadField
from documents.files import FileMissing, LocalFileStore, sha256_of
from documents.pdfinfo import pdf_info
from tests.documents.conftest import SignedFiles


async def test_store_by_digest_idempotent_and_damage_detected(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    digest = await store.put(b"%PDF-1.7 hello")
    assert digest == sha256_of(b"%PDF-1.7 hello")
    path = store.local_path(digest)
    assert path is not None and path.parent.parent.name == digest[:2]
    before = path.stat().st_mtime_ns
    assert await store.put(b"%PDF-1.7 hello") == digest
    assert path.stat().st_mtime_ns == before  # the same bytes are never written again
    assert await store.get(digest) == b"%PDF-1.7 hello"
    assert await store.exists(digest)
    path.write_bytes(b"%PDF-1.7 changed")
    with pytest.raises(FileMissing):
        await store.get(digest)
    with pytest.raises(FileMissing):
        await store.get("../../etc/passwd")
    assert not await store.exists("0" * 64)


async def test_pdf_info(pdfs: SignedFiles) -> None:
    info = await pdf_info(pdfs.signed)
    assert info.page_count == 1 and isinstance(info.text, str)
    assert (await pdf_info(pdfs.signed, max_pages=0)).text == ""
    for bad in (b"hello", b"%PDF-1.7\n garbage without objects"):
        with pytest.raises(BadField):
            await pdf_info(bad)
