"""Files stored by the SHA-256 of their bytes, behind an interface an S3-compatible store can
implement too. A stored file is never rewritten: the same bytes always land at the same name, and a
signed PDF is kept byte for byte as it arrived."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Protocol

from documents.errors import DocumentError
from server.files import write_atomic

_SHA = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore(Protocol):
    """Where file bytes live, addressed by SHA-256 (lowercase hex)."""

    async def put(self, data: bytes, *, sha256: str | None = None) -> str:
        """Store ``data`` (idempotent) and return its SHA-256. ``sha256``: the digest of exactly
        these bytes when the caller has just computed it (not computed again; a wrong one
        makes :meth:`get` refuse the file as damaged)."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; :class:`FileMissing` when absent or damaged."""
        ...

    async def exists(self, sha256: str) -> bool: ...

    def local_path(self, sha256: str) -> Path | None:
        """A path on this machine to serve the file from (range requests), or None."""
        ...


class FileMissing(DocumentError):
    status = 500
    code = "documents.file_missing"
    title = "Stored file missing"

    def __init__(self, sha256: str) -> None:
        super().__init__(
            f"stored file {sha256} is missing or damaged",
            detail_vi="Tệp đã lưu bị thiếu hoặc hỏng; báo quản trị hệ thống.",
        )


class LocalFileStore:
    """Files under ``root/ab/cd/<sha256>``, written through a temporary file, fsync and rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise FileMissing(sha256[:64])
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def local_path(self, sha256: str) -> Path | None:
        path = self._path(sha256)
        return path if path.is_file() else None

    def _write(self, data: bytes, digest: str) -> None:
        path = self._path(digest)
        if path.is_file() and path.stat().st_size == len(data):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)

    async def put(self, data: bytes, *, sha256: str | None = None) -> str:
        digest = sha256 or sha256_of(data)
        await asyncio.to_thread(self._write, data, digest)
        return digest

    def _read(self, sha256: str) -> bytes:
        try:
            data = self._path(sha256).read_bytes()
        except OSError:
            raise FileMissing(sha256) from None
        if sha256_of(data) != sha256:
            raise FileMissing(sha256)
        return data

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._read, sha256)

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(lambda: self._path(sha256).is_file())
