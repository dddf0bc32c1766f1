"""Writing a file so that it is either all there or not there at all (blocking; call it from a
thread when the loop must keep serving).

Stored documents, signed PDFs and papers are written this way: a crash, a full disk or a killed
process during the write leaves the old file (or none) at the path, never half of the new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory (so the rename
    cannot cross file systems), flushed to disk, then renamed over ``path``; the directory is
    synced too, so that the rename itself survives a power cut. On any failure the temporary
    file is removed and the error raised; ``path`` keeps what it held before."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_directory(directory)


def _sync_directory(directory: Path) -> None:
    """Make the directory's entry for a renamed file durable (POSIX; a no-op where directories
    cannot be opened, as on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
            os.fsync(fd)
    finally:
        os.close(fd)
