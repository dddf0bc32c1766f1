"""Exceptions of the documents package, each with a Vietnamese sentence (``detail_vi``)."""

from __future__ import annotations

from typing import Any

from server.errors import Conflict, LienThongError, NotFound, ValidationFailed


class DocumentError(LienThongError):
    """Base of every documents failure."""

    status = 422
    code = "documents.error"
    title = "Document error"


class DocumentNotFound(NotFound):
    """No such document, or the caller may not know it exists (the same answer on purpose)."""

    code = "documents.not_found"

    def __init__(self) -> None:
        super().__init__(
            "No such document.", detail_vi="Không tìm thấy văn bản.", code="documents.not_found"
        )


class BadField(ValidationFailed):
    code = "documents.bad_field"

    def __init__(self, field: str, detail: str, detail_vi: str) -> None:
        super().__init__(detail, detail_vi=detail_vi, extra={"field": field})


class SignatureRejected(DocumentError):
    """The main file carries no valid signature: the send is refused with the validator's reason."""

    code = "documents.signature_rejected"
    title = "Signature rejected"

    def __init__(self, summary_vi: str, reasons: list[str], signatures: list[dict[str, Any]]):
        detail_vi = "Không gửi được: văn bản chưa có chữ ký số hợp lệ. " + summary_vi
        if reasons:
            detail_vi += " " + " ".join(reasons)
        super().__init__(
            "The main PDF does not carry a valid signature.",
            detail_vi=detail_vi,
            extra={"signatures": signatures},
        )


class BadTransition(Conflict):
    """The status asked for does not follow from where the document stands."""

    code = "documents.bad_transition"

    def __init__(self, current: str, wanted: str, detail_vi: str) -> None:
        super().__init__(
            f"Status {wanted} cannot follow {current}.",
            detail_vi=detail_vi,
            extra={"current": current, "wanted": wanted},
        )


class EdxmlError(DocumentError):
    """An edXML message could not be read."""

    code = "documents.edxml"
    title = "Bad edXML"


class NotSupportedAcrossServers(DocumentError):
    code = "documents.not_across_servers"
    title = "Not supported across servers"

    def __init__(self) -> None:
        super().__init__(
            "Revoking, updating or replacing a document sent to another server is not supported yet.",
            detail_vi="Chưa hỗ trợ thu hồi, cập nhật hay thay thế văn bản đã gửi sang máy chủ khác.",
        )
