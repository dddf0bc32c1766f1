"""Two-phase signing for a token on the clerk's own PC (ký số bằng token của người ký).

1. :meth:`RemoteSigning.prepare` (server): builds the signature field and placeholder, hashes the
   byte range and the PAdES signed attributes; returns a :class:`PreparedSignature` whose
   ``to_sign`` (DER of the signed attributes) goes to the signing agent.
2. The agent signs ``to_sign`` with CKM_SHA256_RSA_PKCS on the token (:mod:`signing.agent`).
3. :meth:`RemoteSigning.finish` (server): checks the raw signature against the certificate,
   adds the signature timestamp when asked, and writes the CMS into the placeholder.

Pending signatures live in memory for ``ttl`` seconds; B-B and B-T are supported (B-LT data can be
added afterwards by signing again at the server or a later DSS update).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any, cast

import aiohttp
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

from signing.errors import SigningError, TimestampUnavailable
from signing.pades import Level, SignOptions, _check_validity_period, plan_appearance
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


@dataclass
class _Pending:
    signer: ExternalSigner
    signed_attrs: Any
    prep_digest: Any
    output: IO[bytes]
    options: SignOptions
    created: float


class RemoteSigning:
    """Holds prepared signatures until the agent's answer arrives (one per server process)."""

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self._pending: dict[str, _Pending] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, p in self._pending.items() if now - p.created > self.ttl]:
            del self._pending[key]

    async def prepare(
        self,
        data: bytes,
        cert: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
        options: SignOptions,
    ) -> PreparedSignature:
        if options.level not in (Level.B_B, Level.B_T):
            raise SigningError(
                "two-phase signing supports b-b and b-t",
                detail_vi="Ký hai bước (token tại máy người ký) chỉ hỗ trợ mức B-B và B-T.",
            )
        self._expire()
        now = dt.datetime.now(dt.UTC)
        _check_validity_period(cert, now)
        writer = open_for_signing(data)
        existing = sum(1 for _ in fields.enumerate_sig_fields(writer.prev, filled_status=None))
        field_name = options.field_name or f"{options.role.value}-{existing + 1}"
        page, box, style, stamp_text = plan_appearance(data, writer, options, now)
        signer = ExternalSigner(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
            signature_value=256,
        )
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=options.reason,
        )
        spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=page or 0, box=cast(Any, box))
        pdf_signer = signers.PdfSigner(meta, signer, stamp_style=style, new_field_spec=spec)
        prep_digest, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
            writer,
            bytes_reserved=32768 if options.level is Level.B_T else 16384,
            appearance_text_params={"stamp": stamp_text} if stamp_text else None,
            output=BytesIO(),
        )
        signed_attrs = await signer.signed_attrs(
            prep_digest.document_digest, "sha256", use_pades=True
        )
        request_id = secrets.token_urlsafe(16)
        self._pending[request_id] = _Pending(
            signer, signed_attrs, prep_digest, output, options, time.monotonic()
        )
        return PreparedSignature(
            request_id=request_id,
            to_sign_b64=base64.b64encode(signed_attrs.dump()).decode(),
            message_digest=prep_digest.document_digest.hex(),
            document_sha256=hashlib.sha256(data).hexdigest(),
            field_name=field_name,
        )

    async def finish(self, request_id: str, signature: bytes) -> bytes:
        """Check the agent's raw signature and complete the file; returns the signed PDF."""
        pending = self._pending.pop(request_id, None)
        if pending is None:
            raise SigningError(
                "unknown or expired signing request",
                detail_vi="Yêu cầu ký không tồn tại hoặc đã hết hạn; hãy ký lại.",
            )
        to_sign = pending.signed_attrs.dump()
        cert = pending.signer.signing_cert
        assert cert is not None
        public = load_der_x509_certificate(cert.dump()).public_key()
        try:
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(signature, to_sign, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, AssertionError):
            raise SigningError(
                "the returned signature does not match the certificate",
                detail_vi="Chữ ký trả về từ token không khớp với chứng thư số.",
            ) from None
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
