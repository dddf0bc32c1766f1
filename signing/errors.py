"""Exceptions of the signing package, each with a Vietnamese sentence for people (``detail_vi``).

No builtin exception escapes a public entry point of :mod:`signing`: PKCS#11, pyHanko and pypdf
errors are caught at the edge and turned into one of these.
"""

from __future__ import annotations

from typing import Any

from server.errors import LienThongError


class SigningError(LienThongError):
    """Base of every signing failure."""

    status = 422
    code = "signing.failed"
    title = "Signing failed"


class TokenError(SigningError):
    """A PKCS#11 token could not be used."""

    status = 503
    code = "signing.token"
    title = "Token error"


class TokenNotFound(TokenError):
    code = "signing.token_not_found"
    title = "Token not found"

    def __init__(self, label: str) -> None:
        super().__init__(
            f"no token labelled {label!r} is present",
            detail_vi=f"Không tìm thấy thiết bị ký số (token) có nhãn “{label}”. Hãy cắm token vào máy.",
            extra={"token": label},
        )


class KeyNotFound(TokenError):
    code = "signing.key_not_found"
    title = "Key not found"
    status = 404

    def __init__(self, what: str) -> None:
        super().__init__(
            f"no private key matching {what} on the token",
            detail_vi=f"Không tìm thấy khoá ký ({what}) trên token.",
            extra={"key": what},
        )


class WrongPin(TokenError):
    code = "signing.wrong_pin"
    title = "Wrong PIN"
    status = 401

    def __init__(self) -> None:
        super().__init__(
            "the PIN is wrong",
            detail_vi="Mã PIN không đúng. Token có thể bị khoá nếu nhập sai nhiều lần.",
        )


class PinLocked(TokenError):
    code = "signing.pin_locked"
    title = "PIN locked"
    status = 423

    def __init__(self) -> None:
        super().__init__(
            "the token's user PIN is locked",
            detail_vi="Mã PIN của token đã bị khoá. Liên hệ đơn vị cấp chứng thư số để mở khoá.",
        )


class InvalidPdf(SigningError):
    """The input is not a PDF we can sign or read (encrypted, truncated, malformed, hostile)."""

    code = "signing.invalid_pdf"
    title = "Unusable PDF"

    def __init__(self, reason: str, reason_vi: str) -> None:
        super().__init__(reason, detail_vi=f"Tệp PDF không dùng được: {reason_vi}")


class CertificateProblem(SigningError):
    """The signer's certificate is expired, not yet valid, revoked or untrusted."""

    code = "signing.certificate"
    title = "Signer certificate unusable"

    def __init__(self, reason: str, reason_vi: str, **extra: Any) -> None:
        super().__init__(
            reason, detail_vi=f"Chứng thư số của người ký không dùng được: {reason_vi}", extra=extra
        )


class TimestampUnavailable(SigningError):
    """The timestamp authority (TSA) could not be reached or answered badly."""

    status = 503
    code = "signing.tsa_unavailable"
    title = "Timestamp authority unavailable"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"timestamp authority {url} unavailable: {reason}",
            detail_vi=f"Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian {url}.",
            extra={"tsa": url},
        )


class AnchorNotFound(SigningError):
    code = "signing.anchor_not_found"
    title = "Anchor text not found"

    def __init__(self, anchor: str) -> None:
        super().__init__(
            f"anchor text {anchor!r} not found in the document",
            detail_vi=f"Không tìm thấy dòng chữ “{anchor}” trong văn bản để đặt chữ ký.",
            extra={"anchor": anchor},
        )


class TrustStoreError(SigningError):
    code = "signing.trust_store"
    title = "Trust store error"


class AgentError(SigningError):
    """The local signing agent refused or failed a request."""

    code = "signing.agent"
    title = "Signing agent error"
