"""Errors of the briefings domain, each with a stable code and a Vietnamese sentence."""

from __future__ import annotations

from server.errors import Conflict, Forbidden, NotFound, ValidationFailed


class BriefingNotFound(NotFound):
    code = "briefing.not_found"

    def __init__(self) -> None:
        super().__init__("No such briefing.", detail_vi="Không tìm thấy cuộc họp trực tuyến này.")


class NotInvited(Forbidden):
    """The caller is logged in but neither invited nor the chair."""

    code = "briefing.not_invited"

    def __init__(self) -> None:
        super().__init__(
            "You are not invited to this briefing.",
            detail_vi="Bạn không có tên trong danh sách mời của cuộc họp này.",
        )


class NotChair(Forbidden):
    code = "briefing.not_chair"

    def __init__(self) -> None:
        super().__init__(
            "Only the chair may do this.", detail_vi="Chỉ chủ trì cuộc họp mới được làm việc này."
        )


class BriefingEnded(Conflict):
    code = "briefing.ended"

    def __init__(self) -> None:
        super().__init__(
            "The briefing has ended.", detail_vi="Cuộc họp đã kết thúc, không thể tham gia."
        )


class BadBriefing(ValidationFailed):
    """A field of a new briefing is wrong; ``extra['field']`` names it."""

    code = "briefing.invalid"

    def __init__(self, field: str, detail: str, detail_vi: str) -> None:
        super().__init__(detail, detail_vi=detail_vi, extra={"field": field})
