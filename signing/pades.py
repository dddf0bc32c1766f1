"""PAdES signing (B-B, B-T, B-LT, B-LTA) through pyHanko, with Decree 30 appearances.

Every signature is an incremental update, so the leader's signature, then the agency seal, then a
certified copy all stay valid. Output is written to a temporary file and renamed: a failure never
leaves a partial file. One aiohttp session serves the TSA and the OCSP/CRL fetches of a signing
and is closed at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, cast

import aiohttp
from asn1crypto import x509 as asn1_x509
from pkcs11.exceptions import PKCS11Error
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from server.files import write_atomic
from signing import anchor
from signing.errors import (
    CertificateProblem,
    InvalidPdf,
    SigningError,
    TimestampUnavailable,
)
from signing.library_errors import PDF_READ_ERRORS, SIGNATURE_ERRORS
from signing.pdfinput import open_for_signing, read_pdf_file
from signing.stamps import Role, StampText, default_image, image_style, iso_vietnam, text_style


class Level(enum.StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "b-b"
    B_T = "b-t"
    """With an RFC 3161 signature timestamp."""
    B_LT = "b-lt"
    """Plus certificates and revocation data in the DSS."""
    B_LTA = "b-lta"
    """Plus a document timestamp over everything."""

    @property
    def timestamped(self) -> bool:
        return self is not Level.B_B

    @property
    def long_term(self) -> bool:
        return self in (Level.B_LT, Level.B_LTA)


@dataclass(frozen=True, slots=True)
class Placement:
    """Explicit stamp position: 0-based page index and box in PDF points."""

    page: int
    box: anchor.Box


@dataclass(frozen=True, slots=True)
class SignOptions:
    """How to sign one document."""

    level: Level = Level.B_B
    tsa_url: str | None = None
    """Timestamp authority; required from B-T up."""
    role: Role = Role.INVISIBLE
    image: Path | None = None
    """Signature (leader) or seal (agency) PNG; the demo image when not given."""
    number: str | None = None
    """Number/notation for the attachment stamp (``123/UBND-VP``)."""
    anchor_text: str = "CHỦ TỊCH"
    """Position title searched on the page to place leader and agency stamps."""
    placement: Placement | None = None
    """Overrides the anchor search."""
    field_name: str | None = None
    reason: str | None = None
    location: str | None = None
    trust_roots: Sequence[asn1_x509.Certificate] = ()
    """Roots for the pre-signing certificate check and B-LT data; the signer's own chain root
    when empty."""
    bytes_reserved: int | None = None
    """Space for the CMS signature; sized by level when not given."""
    http_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class SignResult:
    field_name: str
    level: Level
    signed_at: dt.datetime
    sha256: str
    """Of the whole signed file."""
    page: int | None = None
    box: anchor.Box | None = None
    stamp_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def signature_count(writer: Any) -> int:
    """Signature fields already in the file (filled or not): the new field is named after them."""
    try:
        return sum(1 for _ in fields.enumerate_sig_fields(writer.prev, filled_status=None))
    except PDF_READ_ERRORS as exc:
        raise InvalidPdf(
            f"cannot read the signature fields: {type(exc).__name__}: {exc}",
            "không đọc được các ô chữ ký của tệp PDF.",
        ) from None


def _page_size(writer: Any, page: int) -> tuple[float, float]:
    page_ref, _ = writer.prev.find_page_for_modification(page)
    page_obj = page_ref.get_object()
    box = [float(v) for v in page_obj.get("/MediaBox", (0, 0, 595.28, 841.89))]
    return box[2] - box[0], box[3] - box[1]


def plan_appearance(
    data: bytes, writer: Any, options: SignOptions, signed_at: dt.datetime
) -> tuple[int | None, anchor.Box | None, Any, str | None]:
    """Page, box, pyHanko stamp style and stamp text for the role."""
    role = options.role
    if role is Role.INVISIBLE:
        return None, None, None, None
    if role is Role.ATTACHMENT:
        if not options.number:
            raise SigningError(
                "the attachment stamp needs the document number (--number)",
                detail_vi="Chữ ký phụ lục cần số, ký hiệu văn bản (--number).",
            )
        text = StampText(options.number, signed_at).render()
        if options.placement is not None:
            return options.placement.page, options.placement.box, text_style(), text
        width, height = _page_size(writer, 0)
        return 0, anchor.attachment_box(width, height), text_style(), text
    if options.placement is not None:
        page, box = options.placement.page, options.placement.box
    else:
        hit = anchor.find_text(data, options.anchor_text)
        page, box = hit.page, anchor.signature_box(hit)
        if role is Role.AGENCY:
            box = anchor.seal_box(box)
    image = options.image or default_image(role)
    return page, box, image_style(image), None


def _chain_roots(signer: signers.Signer) -> list[asn1_x509.Certificate]:
    # self_issued, not self_signed: asn1crypto's self_signed is the string "maybe"/"yes"/"no"
    return [c for c in signer.cert_registry if c.self_issued]


def _check_validity_period(cert: asn1_x509.Certificate, now: dt.datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    name = cert.subject.human_friendly
    if now > not_after:
        raise CertificateProblem(
            f"the signer certificate ({name}) expired on {not_after.isoformat()}",
            f"chứng thư đã hết hạn ngày {not_after.astimezone(dt.UTC).date().isoformat()}.",
            not_after=not_after.isoformat(),
        )
    if now < not_before:
        raise CertificateProblem(
            f"the signer certificate ({name}) is not valid before {not_before.isoformat()}",
            "chứng thư chưa đến ngày có hiệu lực.",
        )


PRECHECK_TTL = 300.0
"""Seconds a successful pre-signing check of a certificate path is reused (OCSP answers of
Vietnamese CAs are valid for hours; five minutes bounds how late a revocation is noticed)."""
_prechecked: dict[tuple[bytes, frozenset[bytes]], float] = {}


async def _check_certificate(
    signer: signers.Signer, vc: ValidationContext, level: Level, roots: list[asn1_x509.Certificate]
) -> None:
    """Refuse a revoked or untrusted signer before anything is written."""
    cert = signer.signing_cert
    assert cert is not None
    key = (cert.sha256, frozenset(r.sha256 for r in roots))
    if not level.long_term and time.monotonic() - _prechecked.get(key, -1e9) < PRECHECK_TTL:
        return
    validator = CertificateValidator(
        cert, intermediate_certs=list(signer.cert_registry), validation_context=vc
    )
    try:
        await validator.async_validate_usage({"non_repudiation"})  # type: ignore[no-untyped-call]
    except cv_errors.RevokedError:
        raise CertificateProblem(
            f"the signer certificate ({cert.subject.human_friendly}) is revoked",
            "chứng thư đã bị thu hồi.",
        ) from None
    except cv_errors.InsufficientRevinfoError as exc:
        if level.long_term:
            raise CertificateProblem(
                f"no revocation information for the signer certificate: {exc}",
                "không lấy được thông tin thu hồi (OCSP/CRL) của chứng thư.",
            ) from None
    except cv_errors.ExpiredError:
        raise CertificateProblem(
            "the signer certificate has expired", "chứng thư đã hết hạn."
        ) from None
    except cv_errors.InvalidCertificateError as exc:
        raise CertificateProblem(
            f"the signer certificate may not sign documents: {exc}",
            "chứng thư không được phép dùng để ký văn bản.",
        ) from None
    except (cv_errors.PathBuildingError, cv_errors.PathValidationError) as exc:
        raise CertificateProblem(
            f"the signer certificate does not chain to a trust root: {exc}",
            "chứng thư không thuộc tổ chức chứng thực tin cậy.",
        ) from None
    else:
        _prechecked[key] = time.monotonic()


def _default_reserve(level: Level, signer: signers.Signer) -> int:
    # pyHanko counts the hex digits of /Contents: two per byte of the DER signature
    certs = 1 + sum(1 for _ in signer.cert_registry)
    der = 1024 + 1700 * certs
    if level.timestamped:
        der += 6144  # the TSA's token with its own chain
    return (2 * der + 1023) // 1024 * 1024


async def sign_pdf_async(
    data: bytes,
    signer: signers.Signer,
    options: SignOptions,
    *,
    session: aiohttp.ClientSession | None = None,
) -> tuple[bytes, SignResult]:
    """Sign ``data`` and return the signed file's bytes; nothing is written anywhere."""
    if options.level.timestamped and not options.tsa_url:
        raise SigningError(
            f"level {options.level} needs a timestamp authority (--tsa URL)",
            detail_vi="Mức ký này cần máy chủ cấp dấu thời gian (--tsa URL).",
        )
    # parsing and the anchor search are CPU work on possibly large files: off the event loop
    writer = await asyncio.to_thread(open_for_signing, data)
    now = dt.datetime.now(dt.UTC)
    if signer.signing_cert is None:
        raise SigningError(
            "the signer has no certificate", detail_vi="Không có chứng thư số của người ký."
        )
    _check_validity_period(signer.signing_cert, now)
    field_name = options.field_name or f"{options.role.value}-{signature_count(writer) + 1}"
    page, box, style, stamp_text = await asyncio.to_thread(
        plan_appearance, data, writer, options, now
    )
    spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=page or 0, box=cast(Any, box))
    owned = session is None
    if session is None:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=options.http_timeout))
    try:
        signed = await _sign(writer, signer, options, session, spec, (style, stamp_text))
    finally:
        if owned:
            await session.close()
    result = SignResult(
        field_name=field_name,
        level=options.level,
        signed_at=now,
        sha256=hashlib.sha256(signed).hexdigest(),
        page=page,
        box=box,
        stamp_text=stamp_text,
        extra={"signed_at_vn": iso_vietnam(now)},
    )
    return signed, result


async def _validation_context(
    signer: signers.Signer, options: SignOptions, session: aiohttp.ClientSession
) -> ValidationContext | None:
    """The context the signer's certificate is checked in before signing (and B-LT data comes
    from); None when there is no root to check against (B-B/B-T with a bare certificate)."""
    roots = list(options.trust_roots) or _chain_roots(signer)
    if not roots:
        if options.level.long_term:
            raise CertificateProblem(
                "B-LT needs the signer's chain up to a root", "thiếu chuỗi chứng thư tới CA gốc."
            )
        return None
    vc = ValidationContext(
        trust_roots=roots,
        other_certs=list(signer.cert_registry),
        allow_fetching=True,
        revocation_mode="hard-fail" if options.level.long_term else "soft-fail",
        fetcher_backend=AIOHttpFetcherBackend(session, per_request_timeout=options.http_timeout),
    )
    await _check_certificate(signer, vc, options.level, roots)
    return vc


_SIGNING_LIBRARY_ERRORS: tuple[type[Exception], ...] = (*SIGNATURE_ERRORS, PKCS11Error)
"""What pyHanko (and a token under it) raise when a file cannot be signed: a 422 "signing failed",
the rest being bugs raised as they are."""


async def _sign(
    writer: Any,
    signer: signers.Signer,
    options: SignOptions,
    session: aiohttp.ClientSession,
    spec: fields.SigFieldSpec,
    appearance: tuple[Any, str | None],
) -> bytes:
    """The signature itself, with pyHanko's and the TSA's failures turned into ours."""
    style, stamp_text = appearance
    try:
        vc = await _validation_context(signer, options, session)
        timestamper = (
            HTTPTimeStamper(options.tsa_url, session=session, timeout=options.http_timeout)
            if options.level.timestamped and options.tsa_url
            else None
        )
        meta = signers.PdfSignatureMetadata(
            field_name=spec.sig_field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=options.reason,
            location=options.location,
            embed_validation_info=options.level.long_term,
            use_pades_lta=options.level is Level.B_LTA,
            validation_context=vc if options.level.long_term else None,
        )
        pdf_signer = signers.PdfSigner(
            meta, signer, timestamper=timestamper, stamp_style=style, new_field_spec=spec
        )
        out = BytesIO()
        await pdf_signer.async_sign_pdf(
            writer,
            bytes_reserved=options.bytes_reserved or _default_reserve(options.level, signer),
            appearance_text_params={"stamp": stamp_text} if stamp_text else None,
            output=out,
        )
    except (TimeoutError, TimestampRequestError, aiohttp.ClientError) as exc:
        raise TimestampUnavailable(options.tsa_url or "?", f"{type(exc).__name__}: {exc}") from None
    except _SIGNING_LIBRARY_ERRORS as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, (TimeoutError, aiohttp.ClientError, TimestampRequestError)):
            raise TimestampUnavailable(options.tsa_url or "?", str(cause)) from None
        raise SigningError(
            f"signing failed: {type(exc).__name__}: {exc}",
            detail_vi="Ký số không thành công do lỗi khi tạo chữ ký.",
        ) from None
    return out.getvalue()


async def sign_file_async(
    in_path: Path,
    out_path: Path,
    signer: signers.Signer,
    options: SignOptions,
    *,
    session: aiohttp.ClientSession | None = None,
) -> SignResult:
    """Sign ``in_path`` into ``out_path`` (atomically; nothing is left behind on failure)."""
    data = await asyncio.to_thread(read_pdf_file, in_path)
    signed, result = await sign_pdf_async(data, signer, options, session=session)
    try:
        await asyncio.to_thread(write_atomic, out_path, signed)
    except OSError as exc:
        raise SigningError(
            f"cannot write {out_path}: {exc.strerror}",
            detail_vi=f"Không ghi được tệp {out_path}.",
        ) from None
    return result


def sign_file(
    in_path: Path, out_path: Path, signer: signers.Signer, options: SignOptions
) -> SignResult:
    """Blocking form of :func:`sign_file_async` for scripts and the command line."""
    return asyncio.run(sign_file_async(in_path, out_path, signer, options))


__all__ = [
    "InvalidPdf",
    "Level",
    "Placement",
    "SignOptions",
    "SignResult",
    "sign_file",
    "sign_file_async",
    "sign_pdf_async",
]
