"""Sending a signed document (gửi văn bản), in named steps: check → persist → enqueue → publish.

Before the transaction the caller and the files are checked (a clerk, a readable PDF with a valid
signature) and the bytes stored by digest; one transaction then writes the document, its
recipients on this server (arrived, 01), the recipients on other servers (pending, 00, with an
outbox message per peer) and the audit entry; realtime notices go out after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.access import sees_as_sender
from documents.checker import check_signed
from documents.dates import today_vn
from documents.errors import BadField, DocumentNotFound
from documents.inputs import NewDocument, Upload
from documents.models import Attachment, Document
from documents.msglog import append_log_txn, digest_of
from documents.outbox import enqueue_requests_txn, enqueue_txn
from documents.pdfinfo import pdf_info
from documents.routing import Route, route_to_live_txn
from documents.services import Events, Services
from documents.statuses import StatusCode
from server.audit.log import append_txn
from server.auth.principal import Principal, Role
from server.db.base import utcnow
from server.errors import Forbidden
from server.realtime.rules import agency_channel


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """A document whose files passed the checks and are stored, ready to be written."""

    public_id: str
    meta: NewDocument
    main: Upload
    main_sha: str
    pages: int | None
    summary: str
    attachments: list[tuple[Upload, str]]
    now: datetime


@dataclass(frozen=True, slots=True)
class _Routes:
    """Where the recipients are: agencies on this server, and codes by peer for the others."""

    local: list[Route]
    """Deliveries on this server: an ended code's successors in its place (docs/documents.md)."""
    remote: dict[str, list[str]]


async def send_document(
    svc: Services,
    p: Principal,
    meta: NewDocument,
    main: Upload,
    attachments: list[Upload],
    *,
    replaces: str | None = None,
) -> str:
    """Check, store and deliver a document; return its public id.

    ``replaces``: the public id of an earlier document of the caller's agency that this one
    replaces (edXML business type 3); its recipients are asked to accept (15) or refuse (16),
    and it stays readable.
    """
    _check_sender(p, meta)
    out = await _checked_files(svc, meta, main, attachments)

    async def txn(session: AsyncSession) -> list[str]:
        return await _persist_txn(session, svc, p, out, replaces)

    local = await svc.db.write("send_document", txn)
    svc.wake_outbox()
    events: Events = [(agency_channel(p.agency_code), "document.sent", {"id": out.public_id})]
    events += [
        (agency_channel(code), "document.arrived", {"id": out.public_id, "status": "01"})
        for code in local
    ]
    await svc.publish(events)
    return out.public_id


def _check_sender(p: Principal, meta: NewDocument) -> None:
    if not p.has(Role.CLERK):
        raise Forbidden(
            "Only a clerk sends documents.", detail_vi="Chỉ văn thư được gửi văn bản đi."
        )
    if p.agency_code in meta.to:
        raise BadField(
            "to", "An agency cannot send to itself.", "Không gửi văn bản cho chính cơ quan mình."
        )


async def _checked_files(
    svc: Services, meta: NewDocument, main: Upload, attachments: list[Upload]
) -> _Outgoing:
    """A readable PDF with a valid signature, stored with the attachments (by digest)."""
    info = await pdf_info(main.data, max_pages=0)
    summary = await check_signed(svc.checker, main.data)
    main_sha = await svc.store.put(main.data)
    stored = [(a, await svc.store.put(a.data)) for a in attachments]
    return _Outgoing(
        uuid.uuid4().hex, meta, main, main_sha, info.page_count, summary, stored, utcnow()
    )


async def _persist_txn(
    session: AsyncSession, svc: Services, p: Principal, out: _Outgoing, replaces: str | None
) -> list[str]:
    """Write the document, its recipients and the messages for other servers; return the codes
    of the recipients on this server."""
    routes = await _routes_txn(session, svc, p, out.meta)
    old_doc = None
    if replaces is not None:
        old_doc = await repo.get_document_txn(session, replaces)
        if old_doc is None or not sees_as_sender(p, old_doc):
            raise DocumentNotFound()
    await repo.ensure_file_txn(
        session, out.main_sha, len(out.main.data), "application/pdf", out.pages
    )
    for upload, sha in out.attachments:
        await repo.ensure_file_txn(session, sha, len(upload.data), upload.media_type, None)
    doc = await _insert_document_txn(session, p, out, old_doc)
    if old_doc is not None:
        await _ask_to_replace_txn(session, svc, p, old_doc, out)
    for position, (upload, sha) in enumerate(out.attachments):
        name = _clean_name(upload.name, f"phu-luc-{position + 1}")
        session.add(Attachment(document_id=doc.id, position=position, name=name, sha256=sha))
    await _enqueue_remote_txn(session, doc, routes.remote, out.now)
    await _deliver_local_txn(session, doc, out, routes.local)
    details: dict[str, Any] = {
        "number": out.meta.number,
        "to": list(out.meta.to),
        "main": out.main_sha,
    }
    rerouted = {r.agency.code: r.addressed for r in routes.local if r.note}
    if rerouted:
        details["delivered_for"] = rerouted  # successor -> the ended code addressed
    await append_txn(
        session,
        "document.sent",
        actor=p.login,
        actor_user_id=p.user_id,
        target=out.public_id,
        details={**details, "replaces": replaces},
    )
    return [r.agency.code for r in routes.local]


async def _routes_txn(
    session: AsyncSession, svc: Services, p: Principal, meta: NewDocument
) -> _Routes:
    """Each recipient is an agency here or reached through a peer; confidential stays here."""
    agencies = await repo.agencies_by_code_txn(session, [*meta.to, p.agency_code])
    remote: dict[str, list[str]] = {}
    for code in meta.to:
        peer = svc.federation.peer_for_agency(code) if svc.federation else None
        if code not in agencies and peer is not None:
            remote.setdefault(peer.name, []).append(code)
    if remote and meta.confidentiality > 0:
        raise BadField(
            "confidentiality",
            "Confidential documents are not sent to other servers.",
            "Văn bản mật không được gửi sang máy chủ khác qua liên thông.",
        )
    routed = {c for codes in remote.values() for c in codes}
    unknown = [c for c in meta.to if c not in agencies and c not in routed]
    if unknown:
        raise BadField(
            "to",
            f"Unknown agencies: {', '.join(unknown)}.",
            f"Không có cơ quan mang mã: {', '.join(unknown)}.",
        )
    here = [c for c in meta.to if c in agencies]
    local = await route_to_live_txn(session, here, today_vn())
    for route in local:
        if route.agency.code == p.agency_code:
            raise BadField(
                "to",
                f"{route.addressed} has ended; its successor is the sending agency itself.",
                f"Đơn vị mã {route.addressed} đã kết thúc, đơn vị kế thừa chính là cơ quan gửi; "
                "không gửi văn bản cho chính cơ quan mình.",
            )
    return _Routes(local, remote)


async def _insert_document_txn(
    session: AsyncSession, p: Principal, out: _Outgoing, old_doc: Document | None
) -> Document:
    meta = out.meta
    doc = Document(
        public_id=out.public_id,
        sender_agency_id=p.agency_id,
        sender_code=p.agency_code,
        created_by=p.user_id,
        number=meta.number,
        notation=meta.notation,
        doc_type=meta.doc_type,
        subject=meta.subject,
        place=meta.place,
        promulgation_date=meta.promulgation_date or today_vn(),
        signer_name=meta.signer_name,
        signer_position=meta.signer_position,
        urgency=meta.urgency,
        confidentiality=meta.confidentiality,
        due_date=meta.due_date,
        main_sha256=out.main_sha,
        main_name=_clean_name(out.main.name, "van-ban.pdf"),
        state="sent",
        created_at=out.now,
        sent_at=out.now,
        signature_summary=out.summary,
        business_type=3 if old_doc is not None else 0,
        replaces_id=old_doc.id if old_doc is not None else None,
    )
    session.add(doc)
    await session.flush()
    return doc


async def _ask_to_replace_txn(
    session: AsyncSession, svc: Services, p: Principal, old_doc: Document, out: _Outgoing
) -> None:
    """Ask the old document's open recipients to accept the replacement (request 3)."""
    meta = out.meta
    label = f"{meta.number}/{meta.notation}" if meta.notation else meta.number
    note = f"Đề nghị thay thế bằng văn bản {label}"
    old_recs = await repo.recipients_txn(session, old_doc.id)
    await enqueue_requests_txn(
        session,
        svc.federation,
        old_doc.public_id,
        [r.agency_code for r in old_recs if r.agency_id is None and not r.closed],
        3,
        note,
        new_ref=out.public_id,
    )
    for old_rec in old_recs:
        if old_rec.closed:
            continue
        await repo.add_request_txn(
            session, old_rec, "3", note, actor_login=p.login, actor_name=p.full_name
        )


async def _enqueue_remote_txn(
    session: AsyncSession, doc: Document, remote: dict[str, list[str]], now: datetime
) -> None:
    """Recipients on other servers wait (00) until their server's receipt; one message a peer."""
    for peer_name, codes in remote.items():
        for code in codes:
            await repo.add_recipient_txn(
                session,
                doc.id,
                None,
                code,
                StatusCode.PENDING.value,
                now,
                actor_name="hệ thống",
                note=f"Chuyển qua máy chủ {peer_name}",
            )
        payload = {"document": doc.public_id, "to": codes}
        await enqueue_txn(session, peer_name, "document", payload)


async def _deliver_local_txn(
    session: AsyncSession, doc: Document, out: _Outgoing, local: list[Route]
) -> None:
    """Recipients on this server have it at once (01), each delivery in the message log; a
    successor's first step says which ended unit the document was addressed to."""
    envelope = document_digest_fields(doc, [sha for _u, sha in out.attachments])
    for route in local:
        rec = await repo.add_recipient_txn(
            session,
            doc.id,
            route.agency.id,
            route.agency.code,
            StatusCode.ARRIVED.value,
            out.now,
            actor_name="hệ thống",
            note=route.note,
        )
        await append_log_txn(
            session,
            direction="local",
            kind="document",
            message_id=uuid.uuid4().hex,
            document_public_id=doc.public_id,
            digest=digest_of(envelope),
            peer=rec.agency_code,
            agencies=[rec.agency_code],
        )


def document_digest_fields(doc: Document, attachment_shas: list[str]) -> dict[str, Any]:
    """The content a document message's digest covers."""
    return {
        "id": doc.public_id,
        "from": doc.sender_code,
        "number": doc.number,
        "notation": doc.notation,
        "subject": doc.subject,
        "main": doc.main_sha256,
        "attachments": attachment_shas,
    }


def _clean_name(name: str, default: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (base or default)[:255]
