"""The one atomic file write (:func:`server.files.write_atomic`) that signing and the document
store use: all of the new bytes or the old file, never half, and no temporary file left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.files import write_atomic


def test_writes_replaces_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "signed.pdf"
    write_atomic(path, b"first")
    write_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signed.pdf"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "signed.pdf"
    write_atomic(path, b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signed.pdf"]
