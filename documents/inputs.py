"""What a caller may ask of the documents domain, each shape declared once as a model.

The API reads a JSON body into one of these (:func:`server.http.body.read_body`, 422 naming the
field), and ``routes.route(body=...)`` derives the OpenAPI schema from the same class; the pages
and stored draft forms go through :meth:`Input.parse`, which ignores the keys a form adds
(``csrf_token``…). The operations take only these, so a check written here holds for every way in.
Rules that tie fields together answer with their own Vietnamese sentence (:class:`BadField`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from documents.errors import BadField
from documents.statuses import StatusCode
from server.http.body import Body, parse_body

MAX_RECIPIENTS = 500


def _date(value: Any) -> Any:
    """``yyyy-mm-dd`` (ISO) or ``yyyy/mm/dd`` (edXML) text as a date; other values as they are."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            raise PydanticCustomError("date_parsing", "Input should be a date yyyy-mm-dd") from None
    return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _split_codes(value: Any) -> Any:
    """Agency codes as a list, or as one text separated by commas or semicolons."""
    if isinstance(value, str):
        return value.replace(";", ",").split(",")
    return value


def _recipients(codes: tuple[str, ...]) -> tuple[str, ...]:
    to = tuple(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not to:
        raise BadField("to", "Choose at least one recipient.", "Chọn ít nhất một nơi nhận.")
    if len(to) > MAX_RECIPIENTS:
        raise BadField("to", "Too many recipients.", "Quá nhiều nơi nhận.")
    return to


Date = Annotated[dt.date, Strict(), BeforeValidator(_date)]
"""A date as ``yyyy-mm-dd`` or ``yyyy/mm/dd`` text (never a number)."""
Recipients = Annotated[tuple[str, ...], BeforeValidator(_split_codes), AfterValidator(_recipients)]
"""One agency code or more, each once, in the order given."""
Required2000 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]
Text2000 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Login = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Urgency = Annotated[int, Field(ge=1, le=4), BeforeValidator(_no_bool)]
"""Độ khẩn: 1 thường, 2 khẩn, 3 thượng khẩn, 4 hoả tốc."""
Confidentiality = Annotated[int, Field(ge=0, le=3), BeforeValidator(_no_bool)]
"""Độ mật: 0 thường, 1 mật, 2 tối mật, 3 tuyệt mật."""


class Input(Body):
    """A declared input: an empty field (``""`` or null) counts as absent, as a form sends it."""

    @model_validator(mode="before")
    @classmethod
    def _blanks_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v not in ("", None)}
        return data

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Self:
        """From a page's form or stored form fields: the keys the model does not know (the
        form's ``csrf_token``…) are left out; everything else is checked as for the API."""
        return parse_body(cls, {k: v for k, v in data.items() if k in cls.model_fields})


class NewDocument(Input):
    """The metadata of a document to send (the ``metadata`` part of the send form)."""

    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    subject: Required2000
    to: Recipients
    notation: Text100 = ""
    doc_type: Text100 = ""
    place: Text200 = ""
    promulgation_date: Date | None = None
    signer_name: Text200 = ""
    signer_position: Text200 = ""
    urgency: Urgency = 1
    confidentiality: Confidentiality = 0
    due_date: Date | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: the main PDF or an attachment."""

    name: str
    data: bytes
    media_type: str = "application/pdf"


class StatusChange(Input):
    """A recipient's handling step: 02 refuse, 03 register, 04 assign, 05, 06; 15/16 answers."""

    code: Literal["02", "03", "04", "05", "06", "15", "16"]
    note: Text2000 = ""
    assignee: Login = ""
    """Login of the official a leader assigns the document to (04)."""
    due_date: Date | None = None
    """The handling due date set with an assignment (04)."""

    @property
    def status(self) -> StatusCode:
        """The step as a status code."""
        return StatusCode(self.code)

    @model_validator(mode="after")
    def _step_needs(self) -> Self:
        if self.status is StatusCode.REFUSED and not self.note:
            raise BadField("note", "A refusal needs a reason.", "Từ chối tiếp nhận cần nêu lý do.")
        if self.status is StatusCode.ASSIGNED and not self.assignee:
            raise BadField(
                "assignee", "Choose the official to assign.", "Chọn người được phân công xử lý."
            )
        return self


@dataclass(frozen=True, slots=True)
class Amendment:
    """What the sender asks: ``kind`` 1 revoke (thu hồi) or 2 update (cập nhật)."""

    kind: int
    reason: str
    changes: dict[str, Any]


class RevokeRequest(Input):
    """The sender asks the recipients to accept taking the document back (thu hồi)."""

    reason: Required2000

    def amendment(self) -> Amendment:
        """The request as the amendment operation takes it."""
        return Amendment(1, self.reason, {})


class UpdateRequest(Input):
    """The sender changes the subject, due date or urgency and asks for acknowledgement."""

    reason: Required2000
    subject: Text2000 = ""
    due_date: Date | None = None
    urgency: Urgency | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not (self.subject or self.due_date or self.urgency):
            raise BadField(
                "subject",
                "An update changes the subject, due date or urgency.",
                "Cập nhật phải thay đổi trích yếu, hạn xử lý hoặc độ khẩn.",
            )
        return self

    def amendment(self) -> Amendment:
        """The request as the amendment operation takes it: only the fields it changes."""
        changes: dict[str, Any] = {}
        if self.subject:
            changes["subject"] = self.subject
        if self.due_date:
            changes["due_date"] = self.due_date
        if self.urgency:
            changes["urgency"] = self.urgency
        return Amendment(2, self.reason, changes)
