"""The verdict on the signatures of a PDF (báo cáo kiểm tra chữ ký), as :mod:`signing.validate`
gives it and the API, the pages and the documents' checks read it: per signature whether it is
intact, valid, trusted and not revoked, what changed after it, and a Vietnamese sentence."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """The verdict on one signature or document timestamp (báo cáo kiểm tra chữ ký)."""

    field_name: str
    kind: str
    """``signature`` or ``document_timestamp``."""
    signer: str
    """Common name of the signer (or the TSA)."""
    signer_subject: str
    ok: bool
    """Intact, valid, trusted, not revoked, timestamp good, no disallowed change after it."""
    intact: bool
    valid: bool
    trusted: bool
    revocation: str
    """``good``, ``revoked`` or ``unknown``."""
    modification: str
    """What changed after this signature: ``none``, ``validation_data``, ``signatures_or_forms``,
    ``annotations``, ``other`` (page content), or ``unknown``."""
    covers_whole_file: bool
    level: str
    """PAdES level as found: ``b-b``, ``b-t``, ``b-lt``, ``b-lta``."""
    signing_time: str | None
    """Time claimed by the signer, ISO 8601 in +07:00."""
    timestamp_time: str | None
    """Time of the signature timestamp (or of the document timestamp itself)."""
    timestamp_ok: bool | None
    validation_time: str = ""
    """When the signer's certificate chain was checked (ISO 8601, +07:00): now, or the time of
    the signature timestamp when the certificate has expired since (``as_of_timestamp``)."""
    as_of_timestamp: bool = False
    """True when the chain was validated at the signature timestamp's time: the certificate has
    expired since, but the timestamp proves the signature existed while it was valid."""
    problems: list[str] = field(default_factory=list)
    """English problem codes: ``not_intact``, ``untrusted``, ``revoked``, ``page_modified``…"""
    summary_vi: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DocumentReport:
    """All signatures of one file."""

    signatures: list[SignatureReport]
    ok: bool
    summary_vi: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary_vi": self.summary_vi,
            "signatures": [s.to_dict() for s in self.signatures],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


PROBLEMS_VI = {
    "not_intact": "nội dung đã bị thay đổi sau khi ký (sai giá trị băm)",
    "invalid": "chữ ký số không đúng về mật mã",
    "untrusted": "chứng thư không thuộc tổ chức chứng thực tin cậy",
    "revoked": "chứng thư đã bị thu hồi",
    "revocation_unknown": "không kiểm tra được tình trạng thu hồi của chứng thư",
    "expired": "chứng thư hết hạn tại thời điểm kiểm tra (và không có dấu thời gian hợp lệ chứng minh chữ ký có trước đó)",
    "not_yet_valid": "chứng thư chưa có hiệu lực tại thời điểm kiểm tra",
    "timestamp_invalid": "dấu thời gian không hợp lệ",
    "page_modified": "nội dung trang bị sửa sau khi ký",
    "annotations_added": "có chú thích được thêm sau khi ký",
    "error": "không kiểm tra được chữ ký",
}


def summary_vi(
    kind: str, signer: str, ok: bool, problems: list[str], ts: str | None, as_of: bool = False
) -> str:
    who = f"Dấu thời gian của {signer}" if kind == "document_timestamp" else f"Chữ ký của {signer}"
    if ok and as_of:
        return (
            f"{who} hợp lệ tại thời điểm ký {ts} (theo dấu thời gian): toàn vẹn, chứng thư tin "
            "cậy và chưa bị thu hồi lúc ký; chứng thư đã hết hạn sau thời điểm đó."
        )
    if ok:
        when = f", ký lúc {ts}" if ts else ""
        return f"{who} hợp lệ: toàn vẹn, chứng thư tin cậy, chưa bị thu hồi{when}."
    reasons = "; ".join(PROBLEMS_VI.get(p, p) for p in problems)
    return f"{who} KHÔNG hợp lệ: {reasons}."


def error_report(
    name: str, kind: str, signer: str, subject: str, exc: Exception
) -> SignatureReport:
    """The verdict on a signature that could not be processed at all (a library error on what
    the file holds: not valid, and said so; logged, since it may also be a library's bug)."""
    log.info("signature %s not processed: %s: %s", name, type(exc).__name__, exc)
    codes = ["error"]
    return SignatureReport(
        field_name=name,
        kind=kind,
        signer=signer,
        signer_subject=subject,
        ok=False,
        intact=False,
        valid=False,
        trusted=False,
        revocation="unknown",
        modification="unknown",
        covers_whole_file=False,
        level="?",
        signing_time=None,
        timestamp_time=None,
        timestamp_ok=None,
        problems=[*codes, f"{type(exc).__name__}: {exc}"[:300]],
        summary_vi=summary_vi(kind, signer, False, codes, None),
    )
