"""What a caller sees of documents: one document with its timelines, inbox and outbox lists.

Read-only; each function runs inside the caller's read transaction and answers 404 for a
document the caller may not know exists.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.access import Access, access_of
from documents.dates import VN, iso
from documents.errors import DocumentNotFound
from documents.models import Document, Recipient, StatusEvent
from documents.routing import lineage_codes_txn, lineage_of_codes_txn
from documents.services import Services
from documents.statuses import StatusCode
from server.auth.principal import Principal

UNVERIFIED_VI = "Thông tin văn bản chưa được xác thực (nhập thủ công)"
"""Shown with a manually imported document: its PDF may be validly signed, but the number,
subject and sender come from an envelope nobody authenticated."""


async def document_access_txn(
    session: AsyncSession, p: Principal, public_id: str
) -> tuple[Document, Access]:
    """The document and what the caller may see of it; :class:`DocumentNotFound` when none."""
    doc = await repo.get_document_txn(session, public_id)
    if doc is None:
        raise DocumentNotFound()
    own = await repo.recipient_for_txn(session, doc.id, p.agency_code)
    return doc, access_of(p, doc, own)


async def visible_document_txn(
    session: AsyncSession, p: Principal, public_id: str
) -> tuple[Document, Access]:
    """The document and the caller's access to it; :class:`DocumentNotFound` unless visible."""
    doc, access = await document_access_txn(session, p, public_id)
    if not access.visible:
        raise DocumentNotFound()
    return doc, access


def document_summary(doc: Document, names: dict[str, str]) -> dict[str, Any]:
    """The metadata every list and view shows of a document."""
    return {
        "id": doc.public_id,
        "number": doc.number,
        "notation": doc.notation,
        "doc_type": doc.doc_type,
        "subject": doc.subject,
        "sender": {"code": doc.sender_code, "name": names.get(doc.sender_code, doc.sender_code)},
        "place": doc.place,
        "promulgation_date": iso(doc.promulgation_date),
        "signer_name": doc.signer_name,
        "signer_position": doc.signer_position,
        "urgency": doc.urgency,
        "confidentiality": doc.confidentiality,
        "due_date": iso(doc.due_date),
        "sent_at": iso(doc.sent_at),
        "metadata_verified": doc.metadata_verified,
        "metadata_note_vi": "" if doc.metadata_verified else UNVERIFIED_VI,
        "envelope_signature_vi": doc.envelope_signature,
    }


def _timelines(events: list[StatusEvent]) -> dict[int, list[dict[str, Any]]]:
    by_rec: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        by_rec.setdefault(e.recipient_id, []).append(
            {
                "code": e.code,
                "label": StatusCode(e.code).label_vi,
                "note": e.note,
                "actor": e.actor_name or e.actor_login,
                "at": iso(e.at),
                "at_vn": e.at.astimezone(VN).strftime("%d/%m/%Y %H:%M"),
            }
        )
    return by_rec


def _recipient_view(
    r: Recipient,
    names: dict[str, str],
    users: dict[int, tuple[str, str]],
    timeline: list[dict[str, Any]],
) -> dict[str, Any]:
    login, full_name = users.get(r.assignee_id, ("", "")) if r.assignee_id else (None, None)
    return {
        "agency_code": r.agency_code,
        "agency_name": names.get(r.agency_code, r.agency_code),
        "status": r.status,
        "status_label": StatusCode(r.status).label_vi,
        "incoming_number": r.incoming_number,
        "register_year": r.register_year,
        "assignee": login,
        "assignee_name": full_name,
        "handling_due": iso(r.handling_due),
        "pending_request": r.pending_request,
        "closed": r.closed,
        "timeline": timeline,
    }


async def document_view_txn(session: AsyncSession, p: Principal, public_id: str) -> dict[str, Any]:
    """The document as the caller may see it: metadata, files and the timelines visible."""
    doc, access = await visible_document_txn(session, p, public_id)
    own = [access.own_recipient] if access.own_recipient else []
    recs = await repo.recipients_txn(session, doc.id) if access.as_sender else own
    by_rec = _timelines(await repo.events_txn(session, [r.id for r in recs]))
    names = await repo.agency_names_txn(session, [doc.sender_code, *(r.agency_code for r in recs)])
    users = await repo.user_names_txn(session, [r.assignee_id for r in recs if r.assignee_id])
    atts = await repo.attachments_txn(session, doc.id)
    view = document_summary(doc, names)
    replaces = await repo.public_id_of_txn(session, doc.replaces_id) if doc.replaces_id else None
    view.update(
        {
            "role": "sender" if access.as_sender else "recipient",
            "business_type": doc.business_type,
            "replaces": replaces,
            "replaced_by": await repo.replacements_txn(session, doc.id),
            "signature_summary": doc.signature_summary,
            "main": {"name": doc.main_name, "sha256": doc.main_sha256},
            "attachments": [{"name": a.name, "sha256": a.sha256} for a in atts],
            "recipients": [_recipient_view(r, names, users, by_rec.get(r.id, [])) for r in recs],
        }
    )
    return view


async def with_lineage_txn(session: AsyncSession, f: repo.Filters) -> repo.Filters:
    """``f`` with the agencies its text and agency filter stand for, former and later units
    included: a search for a former commune's name finds the documents of the commune it merged
    into, and the reverse (docs/documents.md, agencies with history)."""
    q_codes = await lineage_codes_txn(session, f.q) if f.q.strip() else set()
    codes = await lineage_of_codes_txn(session, [f.agency]) if f.agency else set()
    return replace(f, q_codes=frozenset(q_codes), agency_codes=frozenset(codes))


async def inbox_view_txn(
    session: AsyncSession, p: Principal, f: repo.Filters
) -> list[dict[str, Any]]:
    """The caller's agency's received documents the caller may see, newest first."""
    rows = await repo.inbox_txn(session, p, await with_lineage_txn(session, f))
    names = await repo.agency_names_txn(session, [d.sender_code for _r, d in rows])
    out = []
    for rec, doc in rows:
        item = document_summary(doc, names)
        item.update(
            {
                "status": rec.status,
                "status_label": StatusCode(rec.status).label_vi,
                "incoming_number": rec.incoming_number,
                "register_year": rec.register_year,
                "received_at": iso(rec.received_at),
            }
        )
        out.append(item)
    return out


async def outbox_view_txn(
    session: AsyncSession, p: Principal, f: repo.Filters
) -> list[dict[str, Any]]:
    """Documents the caller's agency sent that the caller may see, with each recipient's status."""
    docs = await repo.outbox_txn(session, p, await with_lineage_txn(session, f))
    recs = await repo.recipients_of_docs_txn(session, [d.id for d in docs])
    names = await repo.agency_names_txn(
        session, [d.sender_code for d in docs] + [r.agency_code for rs in recs.values() for r in rs]
    )
    out = []
    for doc in docs:
        item = document_summary(doc, names)
        item["recipients"] = [
            {"agency_code": r.agency_code, "status": r.status} for r in recs.get(doc.id, [])
        ]
        out.append(item)
    return out


async def file_of_txn(
    session: AsyncSession, p: Principal, public_id: str, sha256: str
) -> tuple[str, str]:
    """(name, media type) of a file of a document the caller may see; 404 otherwise."""
    doc, _access = await visible_document_txn(session, p, public_id)
    if sha256 == doc.main_sha256:
        return doc.main_name, "application/pdf"
    for att in await repo.attachments_txn(session, doc.id):
        if att.sha256 == sha256:
            return att.name, "application/octet-stream"
    raise DocumentNotFound()


# -- the same, each in its own read transaction (what the handlers call) ---------------------


async def document_view(svc: Services, p: Principal, public_id: str) -> dict[str, Any]:
    """:func:`document_view_txn` in a read transaction of its own."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        return await document_view_txn(session, p, public_id)

    return await svc.db.read("document_view", run)


async def trace_view(svc: Services, p: Principal, public_id: str) -> dict[str, Any]:
    """Every status of every recipient the caller may see, without the document's files."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        return await document_view_txn(session, p, public_id)

    view = await svc.db.read("document_trace", run)
    keys = ("agency_code", "agency_name", "status", "incoming_number", "timeline")
    return {
        "id": view["id"],
        "number": view["number"],
        "notation": view["notation"],
        "subject": view["subject"],
        "recipients": [{k: r[k] for k in keys} for r in view["recipients"]],
    }


async def inbox_view(svc: Services, p: Principal, f: repo.Filters) -> list[dict[str, Any]]:
    """:func:`inbox_view_txn` in a read transaction of its own."""

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        return await inbox_view_txn(session, p, f)

    return await svc.db.read("documents_inbox", run)


async def outbox_view(svc: Services, p: Principal, f: repo.Filters) -> list[dict[str, Any]]:
    """:func:`outbox_view_txn` in a read transaction of its own."""

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        return await outbox_view_txn(session, p, f)

    return await svc.db.read("documents_outbox", run)


async def file_of(svc: Services, p: Principal, public_id: str, sha256: str) -> tuple[str, str]:
    """:func:`file_of_txn` in a read transaction of its own."""

    async def run(session: AsyncSession) -> tuple[str, str]:
        return await file_of_txn(session, p, public_id, sha256)

    return await svc.db.read("document_file", run)
