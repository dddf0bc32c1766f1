"""Revoking and updating a sent document (edXML business types 1 and 2; replacing, type 3, is a
new send with ``replaces``). The sender asks; each recipient answers 15 (accept) or 16 (refuse)
through the ordinary status endpoint. Nothing is deleted: a revoked or replaced document stays
readable with its whole timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.access import sees_as_sender
from documents.errors import DocumentNotFound
from documents.inputs import Amendment
from documents.models import Document, Recipient
from documents.outbox import enqueue_requests_txn
from documents.services import Events, Services
from documents.statuses import URGENCY_VI
from server.audit.log import append_txn
from server.auth.principal import Principal, Role
from server.errors import Forbidden
from server.realtime.rules import agency_channel


async def request_amendment(
    svc: Services, p: Principal, public_id: str, amendment: Amendment
) -> dict[str, Any]:
    """Ask every recipient still handling the document to accept a revoke or an update.

    An update changes the sender's record at once (the old values go into the timeline note);
    recipients acknowledge it with 15 or refuse it with 16.
    """
    if not p.has(Role.CLERK):
        raise Forbidden(
            "Only a clerk of the sender revokes or updates.",
            detail_vi="Chỉ văn thư cơ quan gửi được thu hồi hoặc cập nhật văn bản.",
        )
    events: Events = []
    queued: list[int] = []

    async def txn(session: AsyncSession) -> dict[str, Any]:
        doc = await repo.get_document_txn(session, public_id)
        if doc is None or not sees_as_sender(p, doc):
            raise DocumentNotFound()
        recs = await repo.recipients_txn(session, doc.id)
        note = _amend(doc, amendment)
        asked = await _ask_txn(session, p, doc, recs, amendment.kind, note, events)
        remote = [r.agency_code for r in recs if r.agency_id is None and not r.closed]
        queued.append(
            await enqueue_requests_txn(
                session, svc.federation, public_id, remote, amendment.kind, note, amendment.changes
            )
        )
        await append_txn(
            session,
            "document.revoke_requested" if amendment.kind == 1 else "document.update_requested",
            actor=p.login,
            actor_user_id=p.user_id,
            target=public_id,
            details={"reason": amendment.reason, "to": asked, "changes": amendment.changes},
        )
        return {"id": public_id, "asked": asked}

    result = await svc.db.write("document_amend", txn)
    if any(queued):
        svc.wake_outbox()
    await svc.publish(events)
    return result


def _amend(doc: Document, amendment: Amendment) -> str:
    """Mark the document revoked or apply the update; the note the recipients read."""
    what = "thu hồi" if amendment.kind == 1 else "cập nhật"
    note = f"Đề nghị {what}: {amendment.reason}"
    if amendment.kind != 2:
        doc.business_type = 1
        return note
    parts = []
    for key, value in amendment.changes.items():
        before = getattr(doc, key)
        shown_before = URGENCY_VI.get(before, before) if key == "urgency" else before
        shown_after = URGENCY_VI.get(value, value) if key == "urgency" else value
        parts.append(f"{key}: {shown_before} → {shown_after}")
        setattr(doc, key, value)
    doc.business_type = 2
    return note + " (" + "; ".join(parts) + ")"


async def _ask_txn(
    session: AsyncSession,
    p: Principal,
    doc: Document,
    recs: list[Recipient],
    kind: int,
    note: str,
    events: Events,
) -> list[str]:
    """Put the request on every open recipient's timeline; return their codes."""
    asked = []
    for rec in recs:
        if rec.closed:
            continue
        await repo.add_request_txn(
            session, rec, str(kind), note, actor_login=p.login, actor_name=p.full_name
        )
        asked.append(rec.agency_code)
        events.append(
            (
                agency_channel(rec.agency_code),
                "document.status",
                {"id": doc.public_id, "agency": rec.agency_code, "status": "13"},
            )
        )
    return asked
