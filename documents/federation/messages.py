"""The bytes of each outgoing message kind, built the same way every time.

A message sent again must have the same digest as the first time (the receipt a receiver kept
fits the retry), and an evidence bundle rebuilds a sent message from its outbox row to show the
exact bytes a receipt covers: both build them here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from documents import interop
from documents.edxml import (
    EdxmlDocument,
    EdxmlStatus,
    Organ,
    build_document,
    build_status,
    status_to_xml,
)
from documents.envelope import sign_package
from documents.services import Services


def status_body(payload: dict[str, Any], sender_peer_name: str) -> bytes:
    """A handling step for the server the document came from, as an edXML Status (unsigned)."""
    return status_to_xml(status_message(payload, sender_peer_name))


def status_message(payload: dict[str, Any], sender_peer_name: str) -> EdxmlStatus:
    """The status of a queued handling step."""
    at = dt.datetime.fromisoformat(payload["at"])
    promulgated = dt.date.fromisoformat(payload["date"]) if payload.get("date") else at.date()
    number, notation = payload["number"], payload["notation"]
    code = f"{number}/{notation}" if notation else number
    return EdxmlStatus(
        document_id=f"{payload['sender_code']},{promulgated:%Y/%m/%d},{code}",
        sender_code=payload["sender_code"],
        code_number=number,
        code_notation=notation,
        promulgation_date=promulgated,
        from_organ=Organ(payload["agency"]),
        status_code=payload["code"],
        description=payload.get("note", ""),
        timestamp=at,
        staff_name=payload.get("staff", ""),
        department=sender_peer_name,
    )


def request_body(payload: dict[str, Any]) -> bytes:
    """A request queued before requests travelled as edXML (JSON, deterministic): still sent
    as it was queued, and still read by the receiver."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _document_id(doc: dict[str, Any]) -> str:
    code = f"{doc['number']}/{doc['notation']}" if doc["notation"] else doc["number"]
    return f"{doc['sender_code']},{dt.date.fromisoformat(doc['date']):%Y/%m/%d},{code}"


def request_document(payload: dict[str, Any]) -> EdxmlDocument:
    """A revoke (1), update (2) or replace (3) request as edXML: the document concerned (for a
    replacement, the new one) with ``BussinessDocType`` and the reason, and
    ``ReplacementInfoList`` naming the document it acts on; no files (they travelled with the
    document)."""
    kind = int(payload["kind"])
    old: dict[str, Any] = payload["doc"]
    described: dict[str, Any] = payload.get("new_doc") or old if kind == 3 else old
    return EdxmlDocument(
        sender=Organ(described["sender_code"], described["sender_name"]),
        to=tuple(Organ(code) for code in payload["to"]),
        code_number=described["number"],
        code_notation=described["notation"],
        promulgation_date=dt.date.fromisoformat(described["date"]),
        subject=described["subject"],
        attachments=(),
        place=described["place"],
        type_name=described["doc_type"],
        signer_position=described["signer_position"],
        signer_name=described["signer_name"],
        due_date=dt.date.fromisoformat(described["due_date"]) if described["due_date"] else None,
        priority=max(0, int(described["urgency"]) - 1),
        business_type=kind,
        business_reason=str(payload.get("note", "")),
        replaces=(_document_id(old),),
        sent_at=dt.datetime.fromisoformat(described["sent_at"]),
    )


async def message_body(
    svc: Services, server_id: str, kind: str, payload: dict[str, Any]
) -> tuple[bytes, str]:
    """The bytes of one queued message and the document id it refers to (``X-LT-Ref``)."""
    if kind == "document":
        body = await interop.document_message(svc, payload["document"], payload["to"])
        return body, payload["document"]
    keys = svc.envelope
    if kind == "request":
        if not payload.get("doc"):
            return request_body(payload), payload["ref"]
        message = request_document(payload)
        if keys is None:
            return build_document(message).to_bytes(), payload["ref"]
        body = await sign_package(build_document(message), message.sender.organ_id, keys.seals)
        return body, payload["ref"]
    if keys is None:
        return status_body(payload, server_id), payload["ref"]
    # a status is signed by the recipient agency that reports it, when it has a seal here
    package = build_status(status_message(payload, server_id))
    return await sign_package(package, str(payload["agency"]), keys.seals), payload["ref"]
