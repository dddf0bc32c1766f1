"""Exceptions of the signing package, each with a Vietnamese sentence for people (``detail_vi``)
and a stable code from :class:`SigningErrorCode`.

The library errors of PKCS#11, pyHanko, pyhanko-certvalidator, asn1crypto and pypdf
(:mod:`signing.library_errors`) are caught where they happen and turned into one of these (a verdict on a signature is not an error: see
:mod:`signing.validate`). Anything else is a bug: it is logged and raised as it is, and the HTTP
layer answers a generic 500 with an incident id, never a verdict.
"""

from __future__ import annotations

import enum
from typing import Any

from server.errors import LienThongError


class SigningErrorCode(enum.StrEnum):
    """The codes of signing's errors, as clients read them in ``code`` (and the problem ``type``
    ``urn:lienthong:problem:<code>``). The strings never change: pages and agents switch on them."""

    FAILED = "signing.failed"
    TOKEN = "signing.token"
    TOKEN_NOT_FOUND = "signing.token_not_found"
    KEY_NOT_FOUND = "signing.key_not_found"
    WRONG_PIN = "signing.wrong_pin"
    PIN_LOCKED = "signing.pin_locked"
    INVALID_PDF = "signing.invalid_pdf"
    PDF_TOO_COMPLEX = "signing.pdf_too_complex"
    CERTIFICATE = "signing.certificate"
    TSA_UNAVAILABLE = "signing.tsa_unavailable"
    ANCHOR_NOT_FOUND = "signing.anchor_not_found"
    TRUST_STORE = "signing.trust_store"
    TRUST_ROOT_NOT_FOUND = "signing.trust_root_not_found"
    NO_TRUST_ROOTS = "signing.no_trust_roots"
    AGENT = "signing.agent"
    CHECK_TOO_COSTLY = "signing.check_too_costly"
    TOO_MANY_CHECKS = "signing.too_many_checks"
    BUSY = "signing.busy"
    UNSUPPORTED_MEDIA_TYPE = "signing.unsupported_media_type"
    TOO_LARGE = "signing.too_large"
    NO_FILE = "signing.no_file"
    CLIENT_GONE = "signing.client_gone"
    REQUEST_NOT_FOUND = "signing.request_not_found"
    REQUEST_EXPIRED = "signing.request_expired"
    BAD_SIGNATURE = "signing.bad_signature"
    TOO_MANY_REQUESTS = "signing.too_many_requests"
    SIGNER_NOT_BOUND = "signing.signer_not_bound"
    NOT_PERSONAL = "signing.not_personal"


class SigningError(LienThongError):
    """Base of every signing failure."""

    status = 422
    code: str = SigningErrorCode.FAILED
    """One of :class:`SigningErrorCode` for signing's own errors; a package building on signing
    (``documents.sealing``) may name its own."""
    title = "Signing failed"


class TokenError(SigningError):
    """A PKCS#11 token could not be used."""

    status = 503
    code = SigningErrorCode.TOKEN
    title = "Token error"


class TokenNotFound(TokenError):
    code = SigningErrorCode.TOKEN_NOT_FOUND
    title = "Token not found"

    def __init__(self, label: str) -> None:
        super().__init__(
            f"no token labelled {label!r} is present",
            detail_vi=f"Không tìm thấy thiết bị ký số (token) có nhãn “{label}”. Hãy cắm token vào máy.",
            extra={"token": label},
        )


class KeyNotFound(TokenError):
    code = SigningErrorCode.KEY_NOT_FOUND
    title = "Key not found"
    status = 404

    def __init__(self, what: str) -> None:
        super().__init__(
            f"no private key matching {what} on the token",
            detail_vi=f"Không tìm thấy khoá ký ({what}) trên token.",
            extra={"key": what},
        )


class WrongPin(TokenError):
    code = SigningErrorCode.WRONG_PIN
    title = "Wrong PIN"
    status = 401

    def __init__(self) -> None:
        super().__init__(
            "the PIN is wrong",
            detail_vi="Mã PIN không đúng. Token có thể bị khoá nếu nhập sai nhiều lần.",
        )


class PinLocked(TokenError):
    code = SigningErrorCode.PIN_LOCKED
    title = "PIN locked"
    status = 423

    def __init__(self) -> None:
        super().__init__(
            "the token's user PIN is locked",
            detail_vi="Mã PIN của token đã bị khoá. Liên hệ đơn vị cấp chứng thư số để mở khoá.",
        )


class InvalidPdf(SigningError):
    """The input is not a PDF we can sign or read (encrypted, truncated, malformed, hostile)."""

    code = SigningErrorCode.INVALID_PDF
    title = "Unusable PDF"

    def __init__(self, reason: str, reason_vi: str) -> None:
        super().__init__(reason, detail_vi=f"Tệp PDF không dùng được: {reason_vi}")


class CertificateProblem(SigningError):
    """The signer's certificate is expired, not yet valid, revoked or untrusted."""

    code = SigningErrorCode.CERTIFICATE
    title = "Signer certificate unusable"

    def __init__(self, reason: str, reason_vi: str, **extra: Any) -> None:
        super().__init__(
            reason, detail_vi=f"Chứng thư số của người ký không dùng được: {reason_vi}", extra=extra
        )


class TimestampUnavailable(SigningError):
    """The timestamp authority (TSA) could not be reached or answered badly."""

    status = 503
    code = SigningErrorCode.TSA_UNAVAILABLE
    title = "Timestamp authority unavailable"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"timestamp authority {url} unavailable: {reason}",
            detail_vi=f"Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian {url}.",
            extra={"tsa": url},
        )


class AnchorNotFound(SigningError):
    code = SigningErrorCode.ANCHOR_NOT_FOUND
    title = "Anchor text not found"

    def __init__(self, anchor: str) -> None:
        super().__init__(
            f"anchor text {anchor!r} not found in the document",
            detail_vi=f"Không tìm thấy dòng chữ “{anchor}” trong văn bản để đặt chữ ký.",
            extra={"anchor": anchor},
        )


class TrustStoreError(SigningError):
    code = SigningErrorCode.TRUST_STORE
    title = "Trust store error"


class AgentError(SigningError):
    """The local signing agent refused or failed a request."""

    code = SigningErrorCode.AGENT
    title = "Signing agent error"
