"""A recipient's handling of a document (xử lý văn bản đến): refuse (02), register (03), assign
(04), in progress (05), completed (06), and the answers (15 accept, 16 refuse) to the sender's
revoke, update or replace requests.

Each step is checked against the caller's roles and the current status (:data:`NEXT`), put on
the recipient's timeline and in the message log, and, for a document that came from another
server, queued for that server as an edXML status.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.dates import VN, iso
from documents.errors import BadField, BadTransition, DocumentNotFound
from documents.inputs import StatusChange
from documents.models import Document, Recipient
from documents.msglog import append_log_txn, digest_of
from documents.outbox import enqueue_txn
from documents.services import Events, Services
from documents.statuses import ACTORS, ANSWERS, NEXT, REQUEST_KIND_VI, StatusCode
from documents.views import document_access_txn
from server.audit.log import append_txn
from server.auth.principal import Principal
from server.db.base import utcnow
from server.errors import Forbidden
from server.realtime.rules import agency_channel, user_channel

_TRANSITION_VI = {
    StatusCode.REFUSED: "Chỉ từ chối được văn bản vừa đến, chưa vào sổ.",
    StatusCode.REGISTERED: "Văn bản này đã được vào sổ hoặc đã bị từ chối.",
    StatusCode.ASSIGNED: "Chỉ phân công được văn bản đã vào sổ và chưa hoàn thành.",
    StatusCode.IN_PROGRESS: "Văn bản phải được phân công trước khi xử lý.",
    StatusCode.COMPLETED: "Văn bản phải được phân công trước khi hoàn thành.",
}
_AUDIT_ACTION = {
    StatusCode.REFUSED: "document.refused",
    StatusCode.REGISTERED: "document.registered",
    StatusCode.ASSIGNED: "document.assigned",
}


@dataclass
class _Outcome:
    """What one step's transaction leaves for after the commit."""

    result: dict[str, Any] = field(default_factory=dict)
    assignee_ids: list[int] = field(default_factory=list)
    queued: bool = False


async def change_status(
    svc: Services, p: Principal, public_id: str, change: StatusChange
) -> dict[str, Any]:
    """Register, refuse, assign, mark in progress or completed; return the recipient's view."""
    outcome = _Outcome()

    async def txn(session: AsyncSession) -> tuple[str, str]:
        return await _change_txn(session, p, public_id, change, outcome)

    sender, agency = await svc.db.write("document_status", txn)
    if outcome.queued:
        svc.wake_outbox()
    data = {"id": public_id, "agency": agency, "status": change.code}
    events: Events = [
        (agency_channel(sender), "document.status", data),
        (agency_channel(agency), "document.status", data),
    ]
    events += [
        (user_channel(uid), "document.assigned", {"id": public_id}) for uid in outcome.assignee_ids
    ]
    await svc.publish(events)
    return outcome.result


async def _own_recipient_txn(
    session: AsyncSession, p: Principal, public_id: str
) -> tuple[Document, Recipient]:
    """The document and the caller's agency's recipient row; only a recipient handles it."""
    doc, access = await document_access_txn(session, p, public_id)
    if access.own_recipient is None:
        if access.as_sender:
            raise Forbidden(
                "Only a recipient agency records handling steps.",
                detail_vi="Chỉ cơ quan nhận mới cập nhật được tình trạng xử lý.",
            )
        raise DocumentNotFound()
    return doc, access.own_recipient


def _check_may(p: Principal, rec: Recipient, code: StatusCode) -> None:
    is_assignee = rec.assignee_id is not None and rec.assignee_id == p.user_id
    may = p.has(*ACTORS[code]) or (
        is_assignee and code in (StatusCode.IN_PROGRESS, StatusCode.COMPLETED)
    )
    if not may:
        raise Forbidden(
            f"Your roles do not allow status {code.value}.",
            detail_vi=f"Bạn không có quyền chuyển văn bản sang trạng thái “{code.label_vi}”.",
        )


async def _change_txn(
    session: AsyncSession, p: Principal, public_id: str, change: StatusChange, outcome: _Outcome
) -> tuple[str, str]:
    doc, rec = await _own_recipient_txn(session, p, public_id)
    code = change.status
    _check_may(p, rec, code)
    current = StatusCode(rec.status)
    from_peer = bool(doc.origin_peer and doc.origin_ref)
    if code in ANSWERS:
        outcome.queued = from_peer
        return await _answer_request_txn(session, p, doc, rec, code, change.note, outcome.result)
    if rec.closed:
        raise BadTransition(
            current.value, code.value, "Văn bản đã bị thu hồi hoặc thay thế; không xử lý tiếp."
        )
    if code not in NEXT[current]:
        raise BadTransition(current.value, code.value, _TRANSITION_VI[code])
    note, details = await _apply_txn(session, p, rec, change, outcome)
    await repo.add_event_txn(
        session, rec, code.value, note=note, actor_login=p.login, actor_name=p.full_name
    )
    await append_log_txn(
        session,
        direction="local",
        kind="status",
        message_id=uuid.uuid4().hex,
        document_public_id=doc.public_id,
        digest=digest_of(
            {"id": doc.public_id, "from": rec.agency_code, "code": code.value, "note": note}
        ),
        peer=doc.sender_code,
        agencies=[rec.agency_code],
    )
    if from_peer:
        await _status_back_txn(session, doc, rec, code, note, p)
        outcome.queued = True
    action = _AUDIT_ACTION.get(code, "document.status")
    await append_txn(
        session, action, actor=p.login, actor_user_id=p.user_id, target=public_id, details=details
    )
    outcome.result.update(
        {
            "id": public_id,
            "agency": rec.agency_code,
            "status": rec.status,
            "incoming_number": rec.incoming_number,
            "register_year": rec.register_year,
        }
    )
    return doc.sender_code, rec.agency_code


async def _apply_txn(
    session: AsyncSession, p: Principal, rec: Recipient, change: StatusChange, outcome: _Outcome
) -> tuple[str, dict[str, Any]]:
    """What registering (an incoming number) or assigning (an official, a due date) sets; the
    timeline note and the audit details of the step."""
    note = change.note
    details: dict[str, Any] = {"agency": rec.agency_code, "code": change.code}
    if change.status is StatusCode.REGISTERED:
        year = dt.datetime.now(VN).year
        rec.register_year = year
        rec.incoming_number = await repo.next_incoming_number_txn(session, rec.agency_code, year)
        details["incoming_number"] = rec.incoming_number
        note = note or f"Số đến {rec.incoming_number}/{year}"
    elif change.status is StatusCode.ASSIGNED:
        user = await repo.user_of_agency_txn(session, change.assignee, p.agency_id)
        if user is None:
            raise BadField(
                "assignee",
                f"No active official {change.assignee!r} in your agency.",
                f"Không có cán bộ “{change.assignee}” trong cơ quan.",
            )
        rec.assignee_id = user.id
        rec.handling_due = change.due_date
        outcome.assignee_ids.append(user.id)
        details["assignee"] = user.login
        due = f", hạn {change.due_date.isoformat()}" if change.due_date else ""
        note = f"Giao {user.full_name}{due}" + (f". {note}" if note else "")
    return note, details


async def _status_back_txn(
    session: AsyncSession,
    doc: Document,
    rec: Recipient,
    code: StatusCode,
    note: str,
    p: Principal,
    answers: str | None = None,
) -> None:
    """Queue the step for the server the document came from (edXML Status)."""
    assert doc.origin_peer is not None
    await enqueue_txn(
        session,
        doc.origin_peer,
        "status",
        {
            "ref": doc.origin_ref,
            "local": doc.public_id,
            "sender_code": doc.sender_code,
            "number": doc.number,
            "notation": doc.notation,
            "date": iso(doc.promulgation_date),
            "agency": rec.agency_code,
            "code": code.value,
            "note": note,
            "at": iso(utcnow()),
            "staff": p.full_name,
            "answers": answers,
        },
    )


async def _answer_request_txn(
    session: AsyncSession,
    p: Principal,
    doc: Document,
    rec: Recipient,
    code: StatusCode,
    note: str,
    result: dict[str, Any],
) -> tuple[str, str]:
    """15 or 16 to the sender's pending revoke/update/replace request."""
    kind = rec.pending_request
    if not kind:
        raise BadTransition(
            rec.status,
            code.value,
            "Không có đề nghị thu hồi, cập nhật hay thay thế nào chờ trả lời.",
        )
    rec.pending_request = None
    if code is StatusCode.ACCEPTED and kind in ("1", "3"):
        rec.closed = "revoked" if kind == "1" else "replaced"
    verdict = "Đồng ý" if code is StatusCode.ACCEPTED else "Không đồng ý"
    full = f"{verdict} {REQUEST_KIND_VI[kind]}" + (f": {note}" if note else "")
    if doc.origin_peer and doc.origin_ref:
        await _status_back_txn(session, doc, rec, code, full, p, answers=kind)
    await repo.add_event_txn(
        session,
        rec,
        code.value,
        note=full,
        actor_login=p.login,
        actor_name=p.full_name,
        moves_status=False,
    )
    await append_txn(
        session,
        "document.request_answered",
        actor=p.login,
        actor_user_id=p.user_id,
        target=doc.public_id,
        details={"agency": rec.agency_code, "code": code.value, "request": kind},
    )
    result.update(
        {
            "id": doc.public_id,
            "agency": rec.agency_code,
            "status": rec.status,
            "closed": rec.closed,
            "incoming_number": rec.incoming_number,
            "register_year": rec.register_year,
        }
    )
    return doc.sender_code, rec.agency_code
