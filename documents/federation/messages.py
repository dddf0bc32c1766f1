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
from documents.edxml import EdxmlStatus, Organ, status_to_xml
from documents.services import Services


def status_body(payload: dict[str, Any], sender_peer_name: str) -> bytes:
    """A handling step for the server the document came from, as an edXML Status."""
    at = dt.datetime.fromisoformat(payload["at"])
    promulgated = dt.date.fromisoformat(payload["date"]) if payload.get("date") else at.date()
    number, notation = payload["number"], payload["notation"]
    code = f"{number}/{notation}" if notation else number
    return status_to_xml(
        EdxmlStatus(
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
    )


def request_body(payload: dict[str, Any]) -> bytes:
    """A revoke/update/replace request between Liên Thông servers (JSON, deterministic)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


async def message_body(
    svc: Services, server_id: str, kind: str, payload: dict[str, Any]
) -> tuple[bytes, str]:
    """The bytes of one queued message and the document id it refers to (``X-LT-Ref``)."""
    if kind == "document":
        body = await interop.document_message(svc, payload["document"], payload["to"])
        return body, payload["document"]
    if kind == "request":
        return request_body(payload), payload["ref"]
    return status_body(payload, server_id), payload["ref"]
