"""Errors of council sessions, each with a stable code and a Vietnamese sentence."""

from __future__ import annotations

from server.errors import Conflict, Forbidden, NotFound, ValidationFailed


class SessionNotFound(NotFound):
    """The session does not exist or the caller is not invited (the same answer, on purpose)."""

    code = "sessions.not_found"

    def __init__(self, what: str = "session") -> None:
        super().__init__(
            f"No such {what}, or you are not invited.",
            detail_vi="Không tìm thấy, hoặc bạn không được mời dự kỳ họp này.",
        )


class VoteNotFound(SessionNotFound):
    """A vote that does not exist, or one in a session the voter is not invited to: the same
    answer whether that vote is open, closed or not there at all."""

    code = "votes.no_poll"

    def __init__(self) -> None:
        super().__init__("vote")


class NotSecretariat(Forbidden):
    code = "sessions.not_secretariat"

    def __init__(self) -> None:
        super().__init__(
            "Only the session's secretariat may do this.",
            detail_vi="Chỉ thư ký kỳ họp được thực hiện thao tác này.",
        )


class BadInput(ValidationFailed):
    code = "sessions.bad_input"


class VoteRefused(Conflict):
    """A vote that cannot be counted; ``code`` says why (``votes.*``)."""

    code = "votes.refused"


class StateConflict(Conflict):
    code = "sessions.state"
