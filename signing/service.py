"""What the API (:mod:`signing.http`) and the pages (``web/signing``) share: the validation worker
and trust store of the app, reading an uploaded PDF within limits, and the audited changes to the
trust roots.

Changing a root writes the audit entry and the PEM file together: the file operation runs inside
the audit entry's database transaction, so a failed write leaves no entry and a failed entry
leaves no file (only a crash between the file write and the commit could leave a change
unrecorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.log import append_txn
from server.auth.principal import Principal, require_principal
from server.db import Database
from server.errors import BadRequest, LienThongError, NotFound, PayloadTooLarge
from signing.errors import InvalidPdf, SigningError, SigningErrorCode, TrustStoreError
from signing.report import DocumentReport
from signing.trust import TrustRoot, TrustStore, fingerprint, load_certs
from signing.worker import VerificationWorker

MAX_VERIFY_BYTES = 50 * 1024 * 1024
"""Largest PDF the server validates for a caller (official documents are a few MB)."""
MAX_CERT_BYTES = 256 * 1024
"""Largest certificate upload (PEM with a few certificates is a few KB)."""
_GONE_POLL = 0.25
"""Seconds between two looks at whether the client of a running check is still there."""
T = TypeVar("T")
PDF_TYPES = ("application/pdf", "application/octet-stream")
PEM_TYPES = (
    "application/x-pem-file",
    "application/pem-certificate-chain",
    "application/pkix-cert",
    "application/x-x509-ca-cert",
    "text/plain",
)


@dataclass
class SigningServices:
    """The signing package's state in one app (``app[SIGNING_KEY]``)."""

    worker: VerificationWorker
    store: TrustStore
    max_pdf_bytes: int = MAX_VERIFY_BYTES
    max_cert_bytes: int = MAX_CERT_BYTES


SIGNING_KEY = web.AppKey("signing", SigningServices)


class UnsupportedMediaType(LienThongError):
    status = 415
    code = SigningErrorCode.UNSUPPORTED_MEDIA_TYPE
    title = "Unsupported media type"


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is larger than {limit} bytes.",
        detail_vi=f"Tệp quá lớn: tối đa {max(1, limit // (1024 * 1024))} MB.",
        code=SigningErrorCode.TOO_LARGE,
    )


async def _read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1 - size):  # read() may stop short
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
    return b"".join(parts)


async def read_upload(
    request: web.Request, limit: int, *, raw_types: tuple[str, ...], field_name: str = "file"
) -> tuple[bytes, str]:
    """The uploaded file and its name: the body itself (one of ``raw_types``) or the
    ``field_name`` part of a multipart form; 413 over ``limit`` bytes, 415 for other types."""
    ctype = request.content_type
    if ctype == "multipart/form-data":
        if request.content_length is not None and request.content_length > limit + 64 * 1024:
            raise _too_large(limit)
        form = await request.post()  # bounded by the app's client_max_size
        upload = form.get(field_name)
        if not isinstance(upload, web.FileField):
            raise BadRequest(
                f"The form has no file field {field_name!r}.",
                detail_vi="Vui lòng chọn tệp để tải lên.",
                code=SigningErrorCode.NO_FILE,
            )
        data = await asyncio.to_thread(upload.file.read, limit + 1)
        if len(data) > limit:
            raise _too_large(limit)
        return data, upload.filename or ""
    if ctype in raw_types:
        return await _read_limited(request, limit), ""
    raise UnsupportedMediaType(
        f"Send {' or '.join(raw_types)}, or multipart/form-data with a {field_name!r} file"
        f" (got {ctype or 'nothing'}).",
        detail_vi="Định dạng dữ liệu gửi lên không được hỗ trợ.",
    )


class ClientGone(SigningError):
    """The client closed the connection while its file was being checked (never seen by it)."""

    status = 499
    code = SigningErrorCode.CLIENT_GONE
    title = "Client closed the request"


async def unless_client_leaves(request: web.Request, work: Awaitable[T]) -> T:
    """``await work``, cancelled as soon as the client of ``request`` closes its connection.

    aiohttp does not cancel a handler when its client leaves (``handler_cancellation`` is off), so
    a costly check would run on for nobody; the transport is looked at every ``_GONE_POLL``
    seconds and the work cancelled (a check waiting for its turn is dropped, a running one has its
    process killed: :mod:`signing.worker`)."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=_GONE_POLL)
            if done:
                return task.result()
            transport = request.transport
            if transport is None or transport.is_closing():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise ClientGone("the client closed the connection during the check")
    finally:
        task.cancel()


async def verify_upload(request: web.Request) -> tuple[DocumentReport, str, bytes]:
    """Read the uploaded PDF, refuse what is not one, and validate it in a worker process,
    within the caller's share of the checks (:mod:`signing.worker`)."""
    p = require_principal(request)
    services = request.app[SIGNING_KEY]
    data, name = await read_upload(request, services.max_pdf_bytes, raw_types=PDF_TYPES)
    if not data:
        raise InvalidPdf("the file is empty", "tệp rỗng.")
    if b"%PDF-" not in data[:1024]:
        raise InvalidPdf("not a PDF file (no %PDF- header)", "đây không phải là tệp PDF.")
    check = services.worker.verify(data, owner=f"user:{p.user_id}")
    report = await unless_client_leaves(request, check)
    return report, name, data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- trust roots ----------------------------------------------------------------------------------
def root_dict(root: TrustRoot) -> dict[str, str]:
    return {"fingerprint": root.fingerprint, "subject": root.subject, "not_after": root.not_after}


async def list_roots(services: SigningServices) -> list[TrustRoot]:
    return await asyncio.to_thread(services.store.list)


@dataclass(frozen=True, slots=True)
class AddResult:
    added: list[TrustRoot]
    already_present: list[TrustRoot]


async def add_roots(
    db: Database, services: SigningServices, p: Principal, data: bytes, source: str
) -> AddResult:
    """Add every CA certificate in ``data`` (PEM or DER); audited as ``trust_root.added``."""
    if not data.strip():
        raise TrustStoreError("No certificate was given.", detail_vi="Chưa có chứng thư nào.")
    certs = load_certs(data, source or "input")
    for cert in certs:
        if not cert.ca:
            raise TrustStoreError(
                f"{cert.subject.human_friendly} is not a CA certificate",
                detail_vi="Chỉ thêm được chứng thư của tổ chức chứng thực (CA) làm gốc tin cậy.",
            )
    store = services.store

    async def run(session: AsyncSession) -> AddResult:
        present = {r.fingerprint: r for r in await asyncio.to_thread(store.list)}
        new = [c for c in certs if fingerprint(c) not in present]
        for cert in new:
            await append_txn(
                session,
                "trust_root.added",
                actor=p.login,
                actor_user_id=p.user_id,
                target=fingerprint(cert),
                details={"subject": cert.subject.human_friendly, "source": source[:200]},
            )
        added: list[TrustRoot] = []
        for cert in new:
            added += await asyncio.to_thread(store.add, cert.dump(), source)
        old = [present[fingerprint(c)] for c in certs if fingerprint(c) in present]
        return AddResult(added, old)

    return await db.write("trust_root_add", run)


async def remove_root(db: Database, services: SigningServices, p: Principal, fp: str) -> TrustRoot:
    """Remove the root with this SHA-256 fingerprint (or a unique prefix of 8+ hex digits);
    audited as ``trust_root.removed``; 404 when none matches."""
    wanted = fp.lower().replace(":", "").strip()
    store = services.store

    async def run(session: AsyncSession) -> TrustRoot:
        roots = await asyncio.to_thread(store.list)
        matches = (
            [r for r in roots if r.fingerprint.startswith(wanted)]
            if len(wanted) >= 8 and all(c in "0123456789abcdef" for c in wanted)
            else []
        )
        if len(matches) != 1:
            raise NotFound(
                f"No single trust root has the fingerprint {wanted}.",
                detail_vi=f"Không tìm thấy (duy nhất) gốc tin cậy có dấu vân tay {wanted}.",
                code=SigningErrorCode.TRUST_ROOT_NOT_FOUND,
            )
        root = matches[0]
        await append_txn(
            session,
            "trust_root.removed",
            actor=p.login,
            actor_user_id=p.user_id,
            target=root.fingerprint,
            details={"subject": root.subject},
        )
        await asyncio.to_thread(root.path.unlink)
        return root

    return await db.write("trust_root_remove", run)
