"""What a caller may ask of the documents domain, parsed and checked once: the typed inputs.

Handlers (API and pages) turn a request into one of these; the operations take only these, so a
check written here holds for every way in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from documents.dates import parse_date
from documents.errors import BadField
from documents.statuses import StatusCode, parse_code

MAX_RECIPIENTS = 500


def text_field(data: dict[str, Any], key: str, max_len: int, *, required: bool = False) -> str:
    """The stripped text at ``key`` ("" when absent), at most ``max_len`` characters."""
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadField(key, f"{key} must be text.", f"Trường {key} phải là chuỗi ký tự.")
    value = value.strip()
    if required and not value:
        raise BadField(key, f"{key} is required.", f"Trường {key} không được để trống.")
    if len(value) > max_len:
        raise BadField(key, f"{key} is too long.", f"Trường {key} dài quá {max_len} ký tự.")
    return value


def _int_in(data: dict[str, Any], key: str, lo: int, hi: int, default: int) -> int:
    value = data.get(key, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = lo - 1
    if isinstance(value, bool) or not lo <= number <= hi:
        raise BadField(
            key, f"{key} must be between {lo} and {hi}.", f"Trường {key} phải từ {lo} đến {hi}."
        )
    return number


def _recipients(data: dict[str, Any]) -> tuple[str, ...]:
    raw_to = data.get("to")
    if isinstance(raw_to, str):
        raw_to = [c for c in raw_to.replace(";", ",").split(",")]
    if not isinstance(raw_to, list) or not all(isinstance(c, str) for c in raw_to):
        raise BadField(
            "to", "to must be a list of agency codes.", "Nơi nhận phải là danh sách mã cơ quan."
        )
    to = tuple(dict.fromkeys(c.strip() for c in raw_to if c.strip()))
    if not to:
        raise BadField("to", "Choose at least one recipient.", "Chọn ít nhất một nơi nhận.")
    if len(to) > MAX_RECIPIENTS:
        raise BadField("to", "Too many recipients.", "Quá nhiều nơi nhận.")
    return to


@dataclass(frozen=True, slots=True)
class NewDocument:
    """The metadata of a document to send, checked when parsed."""

    number: str
    subject: str
    to: tuple[str, ...]
    notation: str = ""
    doc_type: str = ""
    place: str = ""
    promulgation_date: dt.date | None = None
    signer_name: str = ""
    signer_position: str = ""
    urgency: int = 1
    confidentiality: int = 0
    due_date: dt.date | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> NewDocument:
        """From the JSON ``metadata`` of the API or the fields of the compose page."""
        return cls(
            number=text_field(data, "number", 50, required=True),
            subject=text_field(data, "subject", 2000, required=True),
            to=_recipients(data),
            notation=text_field(data, "notation", 100),
            doc_type=text_field(data, "doc_type", 100),
            place=text_field(data, "place", 200),
            promulgation_date=parse_date("promulgation_date", data.get("promulgation_date")),
            signer_name=text_field(data, "signer_name", 200),
            signer_position=text_field(data, "signer_position", 200),
            urgency=_int_in(data, "urgency", 1, 4, 1),
            confidentiality=_int_in(data, "confidentiality", 0, 3, 0),
            due_date=parse_date("due_date", data.get("due_date")),
        )


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: the main PDF or an attachment."""

    name: str
    data: bytes
    media_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A recipient's handling step: 02 refuse, 03 register, 04 assign, 05, 06; 15/16 answers."""

    code: StatusCode
    note: str = ""
    assignee: str = ""
    """Login of the official a leader assigns the document to (04)."""
    handling_due: dt.date | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> StatusChange:
        """From the API's JSON body or the view page's form."""
        raw = data.get("code")
        code = parse_code(raw) if isinstance(raw, str) else None
        if code is None or code in (StatusCode.ARRIVED, StatusCode.PENDING, StatusCode.REQUEST):
            raise BadField(
                "code",
                "code must be one of 02, 03, 04, 05, 06, 15, 16.",
                "Mã trạng thái phải là một trong 02, 03, 04, 05, 06, 15, 16.",
            )
        note = text_field(data, "note", 2000)
        if code is StatusCode.REFUSED and not note:
            raise BadField("note", "A refusal needs a reason.", "Từ chối tiếp nhận cần nêu lý do.")
        assignee = text_field(data, "assignee", 64)
        if code is StatusCode.ASSIGNED and not assignee:
            raise BadField(
                "assignee", "Choose the official to assign.", "Chọn người được phân công xử lý."
            )
        return cls(code, note, assignee, parse_date("due_date", data.get("due_date")))


@dataclass(frozen=True, slots=True)
class Amendment:
    """What the sender asks: ``kind`` 1 revoke (thu hồi) or 2 update (cập nhật)."""

    kind: int
    reason: str
    changes: dict[str, Any]

    @classmethod
    def parse(cls, kind: int, data: dict[str, Any]) -> Amendment:
        """From the API's JSON body or the revoke form; an update must change something."""
        reason = text_field(data, "reason", 2000, required=True)
        changes: dict[str, Any] = {}
        if kind == 2:
            if data.get("subject"):
                changes["subject"] = text_field(data, "subject", 2000)
            if data.get("due_date"):
                changes["due_date"] = parse_date("due_date", data.get("due_date"))
            if data.get("urgency"):
                urgency = data.get("urgency")
                if urgency not in (1, 2, 3, 4, "1", "2", "3", "4"):
                    raise BadField("urgency", "urgency must be 1-4.", "Độ khẩn phải từ 1 đến 4.")
                changes["urgency"] = int(str(urgency))
            if not changes:
                raise BadField(
                    "subject",
                    "An update changes the subject, due date or urgency.",
                    "Cập nhật phải thay đổi trích yếu, hạn xử lý hoặc độ khẩn.",
                )
        return cls(kind, reason, changes)
