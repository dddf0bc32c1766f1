"""The edXML status codes of a recipient's handling and which step may follow which."""

from __future__ import annotations

import enum

from server.auth.principal import Role


class StatusCode(enum.StrEnum):
    """Status codes of QCVN 102:2016 (``edXML:Status/StatusCode``)."""

    PENDING = "00"
    """Đang chuyển: queued for another server, no receipt yet (ours, not an edXML code)."""
    ARRIVED = "01"
    """Đã đến: the document reached the recipient agency."""
    REFUSED = "02"
    """Từ chối tiếp nhận: the clerk refused it, with a reason."""
    REGISTERED = "03"
    """Đã tiếp nhận (vào sổ): entered in the incoming register with a number."""
    ASSIGNED = "04"
    """Phân công: a leader gave it to an official, with a due date."""
    IN_PROGRESS = "05"
    """Đang xử lý."""
    COMPLETED = "06"
    """Hoàn thành."""
    REQUEST = "13"
    """The sender asks to take back, update or replace the document (đề nghị thu hồi…)."""
    ACCEPTED = "15"
    """The recipient accepts the take-back, update or replacement."""
    DECLINED = "16"
    """The recipient refuses it."""

    @property
    def label_vi(self) -> str:
        return LABELS_VI[self]


LABELS_VI: dict[StatusCode, str] = {
    StatusCode.PENDING: "Đang chuyển",
    StatusCode.ARRIVED: "Đã đến",
    StatusCode.REFUSED: "Từ chối tiếp nhận",
    StatusCode.REGISTERED: "Đã vào sổ",
    StatusCode.ASSIGNED: "Đã phân công",
    StatusCode.IN_PROGRESS: "Đang xử lý",
    StatusCode.COMPLETED: "Hoàn thành",
    StatusCode.REQUEST: "Đề nghị thu hồi/cập nhật/thay thế",
    StatusCode.ACCEPTED: "Đồng ý đề nghị",
    StatusCode.DECLINED: "Không đồng ý đề nghị",
}

ANSWERS = frozenset({StatusCode.ACCEPTED, StatusCode.DECLINED})
"""Answers to a request (13); they go on the timeline but leave the handling status alone."""
HANDLING = frozenset(
    {
        StatusCode.REFUSED,
        StatusCode.REGISTERED,
        StatusCode.ASSIGNED,
        StatusCode.IN_PROGRESS,
        StatusCode.COMPLETED,
    }
)
"""Codes that move a recipient's handling on (and that peers may report)."""
REQUEST_KIND_VI = {"1": "thu hồi", "2": "cập nhật", "3": "thay thế"}

NEXT: dict[StatusCode, frozenset[StatusCode]] = {
    StatusCode.PENDING: frozenset(),
    StatusCode.ARRIVED: frozenset({StatusCode.REFUSED, StatusCode.REGISTERED}),
    StatusCode.REFUSED: frozenset(),
    StatusCode.REGISTERED: frozenset({StatusCode.ASSIGNED}),
    StatusCode.ASSIGNED: frozenset(
        {StatusCode.ASSIGNED, StatusCode.IN_PROGRESS, StatusCode.COMPLETED}
    ),
    StatusCode.IN_PROGRESS: frozenset({StatusCode.IN_PROGRESS, StatusCode.COMPLETED}),
    StatusCode.COMPLETED: frozenset(),
    StatusCode.REQUEST: frozenset(),
    StatusCode.ACCEPTED: frozenset(),
    StatusCode.DECLINED: frozenset(),
}
"""Allowed steps; re-assigning and repeated progress notes are allowed."""

ACTORS: dict[StatusCode, frozenset[Role]] = {
    StatusCode.REFUSED: frozenset({Role.CLERK}),
    StatusCode.REGISTERED: frozenset({Role.CLERK}),
    StatusCode.ASSIGNED: frozenset({Role.LEADER}),
    StatusCode.IN_PROGRESS: frozenset({Role.LEADER}),
    StatusCode.COMPLETED: frozenset({Role.LEADER}),
    StatusCode.ACCEPTED: frozenset({Role.CLERK, Role.LEADER}),
    StatusCode.DECLINED: frozenset({Role.CLERK, Role.LEADER}),
}
"""Roles of the recipient agency that may set each status; for 05 and 06 the assignee may too."""

URGENCY_VI = {1: "Thường", 2: "Khẩn", 3: "Thượng khẩn", 4: "Hoả tốc"}
CONFIDENTIALITY_VI = {0: "Thường", 1: "Mật", 2: "Tối mật", 3: "Tuyệt mật"}


def parse_code(value: str) -> StatusCode | None:
    try:
        return StatusCode(value.strip())
    except ValueError:
        return None
