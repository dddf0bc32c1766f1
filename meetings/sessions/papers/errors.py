"""Errors of session papers."""

from __future__ import annotations

from server.errors import Forbidden, NotFound, ValidationFailed


class PaperRefused(ValidationFailed):
    """An upload that is not an acceptable PDF; ``reason`` is ``malformed``, ``encrypted``…"""

    code = "papers.refused"

    def __init__(self, reason: str, detail: str, detail_vi: str) -> None:
        super().__init__(detail, detail_vi=detail_vi, extra={"reason": reason})
        self.reason = reason


class PaperNotFound(NotFound):
    """No such paper, or not addressed to the caller (the same answer, on purpose)."""

    code = "papers.not_found"

    def __init__(self) -> None:
        super().__init__(
            "No such paper, or it is not addressed to you.",
            detail_vi="Không tìm thấy tài liệu, hoặc tài liệu không gửi tới bạn.",
        )


class DownloadForbidden(Forbidden):
    code = "papers.no_download"

    def __init__(self) -> None:
        super().__init__(
            "This paper may be read but not downloaded.",
            detail_vi="Tài liệu này chỉ được đọc, không được tải về.",
        )
