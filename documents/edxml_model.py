"""The content of edXML messages (QCVN 102:2016/BTTTT) and its date formats, without the XML.

Dates are ``yyyy/MM/dd`` and timestamps ``yyyy/MM/dd HH:mm:ss`` in Vietnam's time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from documents.dates import VN
from documents.errors import EdxmlError

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
XLINK = "http://www.w3.org/1999/xlink"
E = f"{{{NS}}}"
"""The namespace as lxml writes it before a local name (``E + 'Subject'``)."""
DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True, slots=True)
class Organ:
    """An agency as edXML names it (``From``/``To``)."""

    organ_id: str
    organ_name: str = ""
    organization_in_charge: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class EdxmlAttachment:
    name: str
    data: bytes
    content_type: str = "application/pdf"
    content_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    description: str = ""


@dataclass(frozen=True, slots=True)
class EdxmlDocument:
    """The content of an ``edXMLEnvelope`` carrying an official document."""

    sender: Organ
    to: tuple[Organ, ...]
    code_number: str
    code_notation: str
    promulgation_date: dt.date
    subject: str
    attachments: tuple[EdxmlAttachment, ...]
    """The main file first, then the annexes."""
    place: str = ""
    doc_type: int = 1
    type_name: str = ""
    content: str = ""
    signer_competence: str = ""
    signer_position: str = ""
    signer_name: str = ""
    due_date: dt.date | None = None
    priority: int = 0
    page_amount: int = 0
    steering_type: int = 0
    business_type: int = 0
    """BussinessDocType: 0 new, 1 revoke (thu hồi), 2 update (cập nhật), 3 replace (thay thế)."""
    business_reason: str = ""
    replaces: tuple[str, ...] = ()
    """DocumentIds of the documents an update or replacement concerns (ReplacementInfoList)."""
    sent_at: dt.datetime | None = None
    """Time of the sender's TraceHeader."""

    @property
    def document_id(self) -> str:
        """``<sender code>,<yyyy/MM/dd>,<number>/<notation>`` (e.g. ``000.00.00.G22,2015/09/30,7816/VPCP-TTĐT``)."""
        code = (
            f"{self.code_number}/{self.code_notation}" if self.code_notation else self.code_number
        )
        return f"{self.sender.organ_id},{fmt_date(self.promulgation_date)},{code}"


@dataclass(frozen=True, slots=True)
class EdxmlStatus:
    """An ``edXML:Status`` message: a recipient tells the sender where a document stands."""

    document_id: str
    """The DocumentId it answers (ResponseFor)."""
    sender_code: str
    """OrganId of the document's sender (ResponseFor/OrganId)."""
    code_number: str
    code_notation: str
    promulgation_date: dt.date
    from_organ: Organ
    status_code: str
    description: str
    timestamp: dt.datetime
    staff_name: str = ""
    department: str = ""


def fmt_date(value: dt.date) -> str:
    """``yyyy/MM/dd``, the one date form QCVN 102 allows."""
    return value.strftime("%Y/%m/%d")


def fmt_timestamp(value: dt.datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` in Vietnam's time (edXML timestamps carry no zone)."""
    return value.astimezone(VN).strftime("%Y/%m/%d %H:%M:%S")


def parse_date(text: str, where: str) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%Y/%m/%d").date()
    except ValueError:
        raise EdxmlError(
            f"{where}: {text!r} is not a date yyyy/MM/dd",
            detail_vi=f"{where}: “{text}” không đúng định dạng ngày yyyy/MM/dd.",
        ) from None


def parse_timestamp(text: str, where: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text.strip(), "%Y/%m/%d %H:%M:%S").replace(tzinfo=VN)
    except ValueError:
        raise EdxmlError(
            f"{where}: {text!r} is not a timestamp yyyy/MM/dd HH:mm:ss",
            detail_vi=f"{where}: “{text}” không đúng định dạng yyyy/MM/dd HH:mm:ss.",
        ) from None
