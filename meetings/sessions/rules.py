"""The rules of a council session, free of I/O: choices, thresholds, quorum, vote results.

Thresholds follow the Law on Organisation of Local Government: a resolution passes with more than
half of all the council's members (quá nửa tổng số đại biểu), some matters need two thirds (hai phần
ba tổng số đại biểu); a sitting is held when at least two thirds of the members attend.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from meetings.sessions.errors import BadInput

E = TypeVar("E", bound=enum.StrEnum)


class Choice(enum.StrEnum):
    """A member's choice in a vote."""

    YES = "yes"
    """Đồng ý."""
    NO = "no"
    """Không đồng ý."""
    ABSTAIN = "abstain"
    """Không biểu quyết."""


class Threshold(enum.StrEnum):
    MAJORITY_ALL = "majority_all"
    """Quá nửa tổng số đại biểu: yes × 2 > all members."""
    TWO_THIRDS_ALL = "two_thirds_all"
    """Hai phần ba tổng số đại biểu: yes × 3 ≥ all members × 2."""


class InviteRole(enum.StrEnum):
    CHAIR = "chair"
    """Chủ toạ: a member who also sees the live count."""
    MEMBER = "member"
    """Đại biểu: votes."""
    GUEST = "guest"
    """Khách mời: reads and listens, never votes."""
    SECRETARIAT = "secretariat"
    """Thư ký kỳ họp: runs the session."""


VOTING_ROLES = frozenset({InviteRole.CHAIR.value, InviteRole.MEMBER.value})


class Presence(enum.StrEnum):
    HALL = "hall"
    """Có mặt tại hội trường."""
    ONLINE = "online"
    """Tham dự trực tuyến."""
    ABSENT = "absent"
    """Vắng mặt (có lý do)."""


PRESENT = frozenset({Presence.HALL.value, Presence.ONLINE.value})


class SpeakerKind(enum.StrEnum):
    FOR = "for"
    AGAINST = "against"
    QUESTION = "question"


def passes(threshold: Threshold, yes: int, members_total: int) -> bool:
    """Whether ``yes`` votes carry the vote out of ``members_total`` members (all, not present)."""
    if members_total <= 0:
        return False
    if threshold is Threshold.TWO_THIRDS_ALL:
        return yes * 3 >= members_total * 2
    return yes * 2 > members_total


@dataclass(frozen=True, slots=True)
class Quorum:
    """Live attendance of the current sitting."""

    members_total: int
    hall: int
    online: int
    absent: int

    @property
    def present(self) -> int:
        return self.hall + self.online

    @property
    def reached(self) -> bool:
        """At least two thirds of all members present (in the hall or online)."""
        return self.members_total > 0 and self.present * 3 >= self.members_total * 2

    def to_json(self) -> dict[str, int | bool]:
        return {
            "members_total": self.members_total,
            "hall": self.hall,
            "online": self.online,
            "absent": self.absent,
            "present": self.present,
            "reached": self.reached,
        }


def parse_enum(kind: type[E], value: object, field: str) -> E:
    """``value`` as a member of ``kind``; :class:`BadInput` naming ``field`` otherwise."""
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise BadInput(
            f"{field} must be one of: {allowed}.",
            detail_vi=f"Trường {field} phải là một trong: {allowed}.",
            extra={"field": field},
        ) from None
