"""Two-phase signing for a token on the clerk's own PC (ký số bằng token của người ký).

1. :meth:`RemoteSigning.prepare` (server): builds the signature field and placeholder, hashes the
   byte range and the PAdES signed attributes; returns a :class:`PreparedSignature` whose
   ``to_sign`` (DER of the signed attributes) goes to the signing agent.
2. The agent signs ``to_sign`` with CKM_SHA256_RSA_PKCS on the token (:mod:`signing.agent`).
3. :meth:`RemoteSigning.finish` (server): checks the raw signature against the certificate,
   adds the signature timestamp when asked, and writes the CMS into the placeholder.

Pending signatures live in memory for ``ttl`` seconds, bounded in number and bytes per owner (a
quota of their own, see :meth:`RemoteSigning._make_room`) and in all, and each belongs to the
``owner`` that prepared it and to a ``context`` (what was signed, e.g. ``draft:<id>:<sha256>``):
:meth:`RemoteSigning.finish` for another owner or context answers as for an unknown request (404),
so nobody learns that someone else's request exists. An expired request (or one that gave way to
make room) answers 410 until it is forgotten (10 minutes later; at most ``4 × max_pending`` are
remembered, without their files). B-B and B-T are supported (B-LT data can be added afterwards by
signing again at the server or a later DSS update).

Pending state is per process: behind several processes, the reverse proxy must send a user's
prepare and finish to the same process (sticky sessions), or finish answers 404.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any, Protocol, cast

import aiohttp
from aiohttp import web
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_der_x509_certificate
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import ExternalSigner
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from server.accounts.principal import Principal
from server.errors import ConfigError, LienThongError
from signing.errors import (
    CertificateProblem,
    SigningError,
    SigningErrorCode,
    TimestampUnavailable,
)
from signing.pades import (
    Level,
    SignOptions,
    _check_validity_period,
    plan_appearance,
    signature_count,
)
from signing.pdfinput import open_for_signing


@dataclass(frozen=True, slots=True)
class PreparedSignature:
    """What the agent needs: the bytes to sign and what to show the signer."""

    request_id: str
    to_sign_b64: str
    """DER of the signed attributes; the agent signs them with CKM_SHA256_RSA_PKCS."""
    message_digest: str
    """SHA-256 of the document's signed byte range (hex), also inside ``to_sign``."""
    document_sha256: str
    """SHA-256 of the whole input file (hex)."""
    field_name: str


class RequestNotFound(SigningError):
    """No such pending request for this caller (unknown, used, forgotten, or someone else's)."""

    status = 404
    code = SigningErrorCode.REQUEST_NOT_FOUND
    title = "Signing request not found"

    def __init__(self) -> None:
        super().__init__(
            "unknown signing request",
            detail_vi="Không tìm thấy yêu cầu ký này (đã dùng hoặc không tồn tại); hãy ký lại.",
        )


class RequestExpired(SigningError):
    status = 410
    code = SigningErrorCode.REQUEST_EXPIRED
    title = "Signing request expired"

    def __init__(self) -> None:
        super().__init__(
            "the signing request has expired",
            detail_vi="Yêu cầu ký đã hết hạn (quá thời gian chờ ký); hãy bấm ký lại.",
        )


class BadSignature(SigningError):
    code = SigningErrorCode.BAD_SIGNATURE
    title = "Bad signature"

    def __init__(self) -> None:
        super().__init__(
            "the returned signature does not match the certificate",
            detail_vi="Chữ ký trả về từ token không khớp với chứng thư số; văn bản không được ký.",
        )


class TooManyRequests(LienThongError):
    status = 429
    code = SigningErrorCode.TOO_MANY_REQUESTS
    title = "Too many pending signing requests"

    def __init__(self) -> None:
        super().__init__(
            "too many signing requests are waiting",
            detail_vi="Có quá nhiều yêu cầu ký đang chờ; hãy hoàn tất hoặc đợi vài phút rồi thử lại.",
        )


def load_certificate(der: bytes) -> asn1_x509.Certificate:
    """A signer's certificate sent by the agent (DER); :class:`CertificateProblem` when it is not
    a usable RSA certificate."""
    try:
        cert = asn1_x509.Certificate.load(der)
        algo = cert.public_key.algorithm
        cert.subject.human_friendly  # noqa: B018 -- forces parsing of the whole structure
    except (ValueError, TypeError, KeyError):
        raise CertificateProblem(
            "the certificate cannot be read", "chứng thư số gửi lên không đọc được."
        ) from None
    if algo != "rsa":
        raise CertificateProblem(
            f"the certificate's key is {algo}, not RSA", "khoá của chứng thư số không phải RSA."
        )
    return cert


class SignerCheck(Protocol):
    """Whether a certificate may sign for the person logged in (:class:`signing.binding.SignerBinding`)."""

    async def require(self, p: Principal, der: bytes, *, propose: bool = True) -> None: ...


@dataclass
class _Pending:
    signer: ExternalSigner
    signed_attrs: Any
    prep_digest: Any
    output: IO[bytes]
    options: SignOptions
    created: float
    owner: str
    context: str
    size: int


class RemoteSigning:
    """Holds prepared signatures until the agent's answer arrives (one per server process)."""

    def __init__(
        self,
        ttl: float = 600.0,
        *,
        max_pending: int = 200,
        max_per_owner: int = 5,
        max_bytes: int = 512 * 1024 * 1024,
        max_bytes_per_owner: int = 64 * 1024 * 1024,
    ) -> None:
        self.ttl = ttl
        self.max_pending = max_pending
        self.max_per_owner = max_per_owner
        self.max_bytes = max_bytes
        """Bytes of prepared files held in all (each pending request keeps its output file)."""
        self.max_bytes_per_owner = max_bytes_per_owner
        """Bytes one owner's pending requests may hold (a 50 MB upload and a few small ones)."""
        self.tsa_url: str | None = None
        self.binding: SignerCheck | None = None
        """Who may sign with which certificate; :mod:`signing.twophase` refuses to sign without."""
        """The timestamp authority the server's side uses for B-T (``LIENTHONG_TSA_URL``)."""
        self._pending: dict[str, _Pending] = {}
        self.remember_expired = 600.0
        """Seconds an expired request still answers "expired" (410) before it is forgotten (404)."""
        self._expired: dict[str, tuple[str, str, float]] = {}
        """Tombstones of expired requests: owner, context, creation time."""

    def _expire(self) -> None:
        """Drop expired requests (and the prepared files they hold), keeping a small tombstone
        for a while so that finish can say "expired" rather than "unknown"."""
        now = time.monotonic()
        for key, p in list(self._pending.items()):
            if now - p.created > self.ttl:
                del self._pending[key]
                self._expired[key] = (p.owner, p.context, p.created)
        forget = self.ttl + self.remember_expired
        for key in [k for k, t in self._expired.items() if now - t[2] > forget]:
            del self._expired[key]
        while len(self._expired) > 4 * self.max_pending:
            del self._expired[next(iter(self._expired))]

    def _evict(self, key: str) -> None:
        """Forget a pending request to make room; its finish answers "expired, sign again"."""
        p = self._pending.pop(key)
        self._expired[key] = (p.owner, p.context, p.created)

    def _oldest(self, owner: str) -> str | None:
        mine = [(p.created, k) for k, p in self._pending.items() if p.owner == owner]
        return min(mine)[1] if mine else None

    def _held(self, owner: str | None = None) -> tuple[int, int]:
        """Bytes and requests pending, of ``owner`` or in all."""
        mine = [p.size for p in self._pending.values() if owner is None or p.owner == owner]
        return sum(mine), len(mine)

    def _heaviest(self, owner: str, size: int) -> str | None:
        """Whose request gives way when the server's bound is reached: the oldest of whoever
        holds the most (bytes, then requests), counting the new one for ``owner``; a tie goes
        against ``owner``. None when that is ``owner`` with nothing pending."""
        shares: dict[str, tuple[int, int]] = {}
        for p in self._pending.values():
            held, count = shares.get(p.owner, (0, 0))
            shares[p.owner] = (held + p.size, count + 1)
        held, count = shares.get(owner, (0, 0))
        shares[owner] = (held + size, count + 1)
        top = max(shares, key=lambda o: (shares[o], o == owner))
        return self._oldest(top)

    def _make_room(self, owner: str, size: int) -> None:
        """Each owner has a quota of their own (``max_per_owner`` requests, ``max_bytes_per_owner``
        bytes): past it, their own oldest request gives way. The server's bound (``max_pending``,
        ``max_bytes``) is only a safety net: when it is reached, the request that gives way is
        one of whoever holds the most, so filling one's own quota never turns another user
        away; only a request larger than anyone else's share on a full server waits (429)."""
        self._expire()
        if size > min(self.max_bytes, self.max_bytes_per_owner):
            raise TooManyRequests()
        while True:
            held, count = self._held(owner)
            oldest = self._oldest(owner)
            if oldest is None or (
                count < self.max_per_owner and held + size <= self.max_bytes_per_owner
            ):
                break
            self._evict(oldest)  # a signer who gave up on earlier tries makes room
        while True:
            held, count = self._held()
            if count < self.max_pending and held + size <= self.max_bytes:
                return
            victim = self._heaviest(owner, size)
            if victim is None:
                raise TooManyRequests()
            self._evict(victim)

    def _hold(self, pending: _Pending) -> str:
        """Keep a prepared request; the bounds are checked again (with no await in between),
        since other prepares of the same owner may have finished while this one was built."""
        self._make_room(pending.owner, pending.size)
        request_id = secrets.token_urlsafe(16)
        self._pending[request_id] = pending
        return request_id

    def pending_count(self, owner: str | None = None) -> int:
        """Requests waiting for a signature (not expired), of ``owner`` or in all."""
        self._expire()
        return sum(1 for p in self._pending.values() if owner is None or p.owner == owner)

    async def prepare(
        self,
        data: bytes,
        cert: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
        options: SignOptions,
        *,
        owner: str = "",
        context: str = "",
    ) -> PreparedSignature:
        """Prepare ``data`` for ``cert``'s signature; only ``owner`` may finish it, and only for
        the same ``context``."""
        if options.level not in (Level.B_B, Level.B_T):
            raise SigningError(
                "two-phase signing supports b-b and b-t",
                detail_vi="Ký hai bước (token tại máy người ký) chỉ hỗ trợ mức B-B và B-T.",
            )
        size = len(data) + (options.bytes_reserved or 32768)
        self._make_room(owner, size)
        now = dt.datetime.now(dt.UTC)
        _check_validity_period(cert, now)
        # parsing and the anchor search are CPU work on possibly large files: off the event loop
        writer = await asyncio.to_thread(open_for_signing, data)
        existing = signature_count(writer)
        field_name = options.field_name or f"{options.role.value}-{existing + 1}"
        page, box, style, stamp_text = await asyncio.to_thread(
            plan_appearance, data, writer, options, now
        )
        spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=page or 0, box=cast(Any, box))
        signer = ExternalSigner(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
            signature_value=max(256, (cert.public_key.bit_size + 7) // 8),
        )
        prep_digest, output = await _digest(writer, signer, options, spec, (style, stamp_text))
        signed_attrs = await signer.signed_attrs(
            prep_digest.document_digest, "sha256", use_pades=True
        )
        pending = _Pending(
            signer,
            signed_attrs,
            prep_digest,
            output,
            options,
            time.monotonic(),
            owner,
            context,
            size,
        )
        request_id = self._hold(pending)
        return PreparedSignature(
            request_id=request_id,
            to_sign_b64=base64.b64encode(signed_attrs.dump()).decode(),
            message_digest=prep_digest.document_digest.hex(),
            document_sha256=hashlib.sha256(data).hexdigest(),
            field_name=field_name,
        )

    def pending_certificate(self, request_id: str, *, owner: str, context: str) -> bytes | None:
        """The certificate (DER) a pending request of ``owner`` for ``context`` signs with."""
        pending = self._pending.get(request_id)
        if pending is None or (pending.owner, pending.context) != (owner, context):
            return None
        cert = pending.signer.signing_cert
        return None if cert is None else bytes(cert.dump())

    def signer_name(self, request_id: str, *, owner: str = "") -> str:
        """The subject of the certificate a pending request of ``owner`` signs with ("" if none)."""
        pending = self._pending.get(request_id)
        if pending is None or pending.owner != owner or pending.signer.signing_cert is None:
            return ""
        return str(pending.signer.signing_cert.subject.human_friendly)

    async def finish(
        self, request_id: str, signature: bytes, *, owner: str = "", context: str = ""
    ) -> bytes:
        """Check the agent's raw signature and complete the file; returns the signed PDF.

        The request is used once, whatever the outcome: a wrong signature means signing again.
        """
        self._expire()
        tomb = self._expired.get(request_id)
        if tomb is not None and tomb[:2] == (owner, context):
            del self._expired[request_id]
            raise RequestExpired()
        pending = self._pending.get(request_id)
        if pending is None or pending.owner != owner or pending.context != context:
            raise RequestNotFound()
        del self._pending[request_id]
        to_sign = pending.signed_attrs.dump()
        cert = pending.signer.signing_cert
        assert cert is not None
        public = load_der_x509_certificate(cert.dump()).public_key()
        try:
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(signature, to_sign, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, AssertionError):
            raise BadSignature() from None
        pending.signer._signature_value = signature
        timestamper = None
        session: aiohttp.ClientSession | None = None
        try:
            if pending.options.level is Level.B_T and pending.options.tsa_url:
                session = aiohttp.ClientSession()
                timestamper = HTTPTimeStamper(pending.options.tsa_url, session=session)
            cms = await pending.signer.async_sign_prescribed_attributes(
                "sha256", signed_attrs=pending.signed_attrs, timestamper=timestamper
            )
            await PdfTBSDocument.async_finish_signing(pending.output, pending.prep_digest, cms)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TimestampUnavailable(pending.options.tsa_url or "?", str(exc)) from None
        finally:
            if session is not None:
                await session.close()
        output = pending.output
        output.seek(0)
        return output.read()


async def _digest(
    writer: Any,
    signer: ExternalSigner,
    options: SignOptions,
    spec: fields.SigFieldSpec,
    appearance: tuple[Any, str | None],
) -> tuple[Any, IO[bytes]]:
    """The file with the signature field and an empty placeholder, and the digest of its signed
    byte range (what the signed attributes commit to)."""
    style, stamp_text = appearance
    meta = signers.PdfSignatureMetadata(
        field_name=spec.sig_field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=options.reason,
    )
    pdf_signer = signers.PdfSigner(meta, signer, stamp_style=style, new_field_spec=spec)
    prep_digest, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
        writer,
        bytes_reserved=32768 if options.level is Level.B_T else 16384,
        appearance_text_params={"stamp": stamp_text} if stamp_text else None,
        output=BytesIO(),
    )
    return prep_digest, output


REMOTE_KEY = web.AppKey("remote_signing", RemoteSigning)
"""The app's one :class:`RemoteSigning` (mounted by :func:`signing.http.setup`)."""


def tsa_url_from_env(env: Mapping[str, str]) -> str | None:
    """``LIENTHONG_TSA_URL``: the timestamp authority for B-T signatures made on the server's side
    (two-phase signing and the agency seal); unset means B-B only."""
    url = env.get("LIENTHONG_TSA_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError("LIENTHONG_TSA_URL", "must be an http(s) URL")
    return url
