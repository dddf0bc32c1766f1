"""The process a :class:`signing.worker.VerificationWorker` validates in, and the frames it speaks.

A child process owns one :class:`~signing.validate.Verifier` over the trust directory (its HTTP
session, validation context and path cache live as long as the process) and answers one file at a
time on a socket: ``frame(data)`` in, ``frame(outcome)`` out, where a frame is an 8-byte length and
a pickle. The parent trusts what it reads (its own child), never what a client sent: the file's
bytes travel as one ``bytes`` value and are only ever parsed here, where a hostile file can burn
CPU or memory until the parent kills the process.

An outcome is ``("ok", report, info)``, ``("error", module, class, args, attributes)`` for a
:class:`~server.errors.LienThongError` (rebuilt by :func:`rebuild_error` in the parent; the
platform's errors cannot be unpickled through their constructors), or ``("crash", traceback)``
for anything else: a bug, which the parent raises as :class:`CheckCrashed` (logged with the
child's traceback, answered 500), never a verdict.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pickle
import socket
import struct
import traceback
from pathlib import Path
from typing import Any

from server.errors import LienThongError
from signing import speedups
from signing.errors import SigningError, SigningErrorCode
from signing.report import DocumentReport
from signing.trust import TrustStore
from signing.validate import Verifier

_HEADER = struct.Struct(">Q")
_MAX_TRACEBACK = 8000


class NoTrustRoots(SigningError):
    status = 503
    code = SigningErrorCode.NO_TRUST_ROOTS
    title = "No trust roots"

    def __init__(self) -> None:
        super().__init__(
            "No trust root is configured on this server; an administrator must add one.",
            detail_vi="Máy chủ chưa có gốc tin cậy nào nên chưa kiểm tra được chữ ký. "
            "Quản trị viên cần thêm chứng thư gốc (Quản trị → Gốc tin cậy).",
        )


class CheckCrashed(RuntimeError):
    """The check failed to run in the child process (a bug, not a verdict): its message carries
    the child's traceback, so that the server's log of the 500 shows where it broke."""


def encode(value: object) -> bytes:
    """One frame: the length of the pickle, then the pickle."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> Any:
    """The next frame from the child (parent side); ``IncompleteReadError`` when it died."""
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return pickle.loads(await reader.readexactly(size))


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    parts, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _recv_frame(sock: socket.socket) -> Any:
    header = _recv_exactly(sock, _HEADER.size)
    if header is None:
        return None
    body = _recv_exactly(sock, _HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)


def rebuild_error(
    module: str, name: str, args: tuple[Any, ...], state: dict[str, Any]
) -> Exception:
    """The child's :class:`LienThongError`, as the parent raises it (same class, same fields)."""
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, LienThongError)):
        return RuntimeError(f"signature check failed: {module}.{name}")
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class _Host:
    """The child's verifier, rebuilt when the set of root files changes, so that an
    administrator's change to the trust roots takes effect on the next check without a restart."""

    def __init__(self, trust_dir: Path, online: bool, fast: bool) -> None:
        self.store = TrustStore(trust_dir)
        self.online, self.fast = online, fast
        self._verifier: Verifier | None = None
        self._stamp: tuple[tuple[str, int], ...] | None = None
        self._roots = 0

    def _roots_stamp(self) -> tuple[tuple[str, int], ...]:
        directory = self.store.directory
        if not directory.is_dir():
            return ()
        return tuple(
            (p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.pem")) if p.is_file()
        )

    async def verify(self, data: bytes) -> DocumentReport:
        stamp = self._roots_stamp()
        if self._verifier is None or stamp != self._stamp:
            await self.close()
            roots = self.store.certificates()
            verifier = Verifier(roots, online=self.online, fast=self.fast)
            await verifier.__aenter__()
            self._verifier, self._stamp, self._roots = verifier, stamp, len(roots)
        if self._roots == 0:
            raise NoTrustRoots()
        return await self._verifier.verify(data)

    async def close(self) -> None:
        if self._verifier is not None:
            await self._verifier.__aexit__(None, None, None)
            self._verifier = None


def _outcome(loop: asyncio.AbstractEventLoop, host: _Host, data: bytes) -> tuple[Any, ...]:
    try:
        report = loop.run_until_complete(host.verify(data))
    except LienThongError as exc:
        kind = type(exc)
        return ("error", kind.__module__, kind.__qualname__, exc.args, dict(exc.__dict__))
    except Exception:  # a bug: the parent logs this traceback and answers 500, never a verdict
        return ("crash", traceback.format_exc()[-_MAX_TRACEBACK:])
    return ("ok", report, {"pid": os.getpid(), "fast": speedups.installed()})


def child_main(sock: socket.socket, trust_dir: Path, online: bool, fast: bool) -> None:
    """Serve checks on ``sock`` until the parent closes it (or kills this process)."""
    sock.setblocking(True)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    host = _Host(trust_dir, online, fast)
    try:
        while True:
            data = _recv_frame(sock)
            if not isinstance(data, bytes):
                break
            sock.sendall(encode(_outcome(loop, host, data)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        loop.run_until_complete(host.close())
        loop.close()
        sock.close()
