"""Receiving a peer's messages: a document, a handling status, or a revoke/update/replace request.

Each receiver checks what the peer may say (a peer speaks only for its own agencies and delivers
only to ours it is allowed to), then applies the message once (:func:`once_txn`): the effect, our
signed receipt and the message-log entry commit together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.dates import today_vn
from documents.edxml import EdxmlDocument, document_of, parse_package, status_of
from documents.envelope import check_envelope
from documents.errors import BadField, DocumentNotFound
from documents.federation.arrival import Arrival, answer, once_txn, stored_receipt_txn
from documents.federation.receipts import sign_receipt
from documents.federation.runtime import Federation
from documents.models import Document, Receipt, StatusEvent
from documents.peers import Peer
from documents.received import check_and_store, insert_received_txn
from documents.routing import Route, route_to_live_txn
from documents.services import Events, Services
from documents.statuses import ANSWERS, HANDLING, StatusCode, parse_code
from server import jsonstrict
from server.audit.log import append_txn
from server.auth.principal import Principal
from server.db.base import utcnow
from server.errors import Forbidden
from server.realtime.rules import agency_channel


async def receive(svc: Services, fed: Federation, p: Principal, arrival: Arrival) -> dict[str, Any]:
    """Take one message from a peer; answer with our signed receipt (the same one for a copy)."""
    peer = fed.config.peer_by_login(p.login)
    if peer is None:
        raise Forbidden(
            "Only a registered peer server delivers messages.",
            detail_vi="Chỉ máy chủ liên thông đã đăng ký mới được chuyển thông điệp.",
        )

    async def known(session: AsyncSession) -> Receipt | None:
        return await stored_receipt_txn(session, peer, arrival.message_id)

    stored = await svc.db.read_one("federation_known", known)
    if stored is not None:
        return answer(stored)
    receipt = sign_receipt(fed.seal, arrival.body, body_sha256=arrival.digest)
    # the exact bytes received, kept by their digest for evidence bundles
    await svc.store.put(arrival.body, sha256=arrival.digest)
    receiver = {"document": _receive_document, "request": _receive_request}.get(
        arrival.kind, _receive_status
    )
    try:
        got, events = await receiver(svc, peer, arrival, receipt)
    except IntegrityError:
        # the same message committed by a concurrent copy: answer with that one's receipt
        stored = await svc.db.read("federation_known", known)
        if stored is None:
            raise
        return answer(stored)
    await svc.publish(events)
    return got


def _rank(code: StatusCode) -> int:
    return 3 if code is StatusCode.REFUSED else int(code.value)


async def _receive_document(
    svc: Services, peer: Peer, arrival: Arrival, receipt: bytes
) -> tuple[dict[str, Any], Events]:
    """A document for our agencies: checked and stored as a send is, arrived (01) for each."""
    package = parse_package(arrival.body)
    message = document_of(package)
    # the peer's channel authenticates the server; a signed envelope must also be the sender's
    verdict = await check_envelope(svc.envelope, arrival.body, package, message.sender.organ_id)
    pdfs = [a for a in message.attachments if a.content_type == "application/pdf"]
    if not pdfs:
        raise BadField(
            "Attachment", "No PDF in the message.", "Thông điệp không có tệp PDF văn bản."
        )
    files = await check_and_store(svc, message, pdfs[0])
    public_id = hashlib.sha256(f"{peer.name}|{arrival.message_id}".encode()).hexdigest()[:32]
    codes = list(dict.fromkeys(o.organ_id for o in message.to))
    events: Events = []

    async def effect(session: AsyncSession) -> tuple[str, list[str]]:
        await _addressees_txn(session, peer, message, codes)
        # an addressed unit that has ended since (merged, renamed, split) receives through its
        # successors, as a local send does; a dissolved one refuses the whole message
        routes = await route_to_live_txn(session, codes, today_vn())
        now = utcnow()
        doc = await insert_received_txn(
            session,
            message,
            files,
            public_id,
            now,
            origin_peer=peer.name,
            origin_ref=arrival.ref,
            envelope_signature=verdict.line_vi if verdict.signed else "",
        )
        await _deliver_txn(session, doc.id, public_id, routes, peer.name, now, events)
        details: dict[str, Any] = {
            "message_id": arrival.message_id,
            "to": codes,
            "main": files.main_sha,
        }
        if delivered_for := {r.agency.code: r.addressed for r in routes if r.note}:
            details["delivered_for"] = delivered_for
        await append_txn(
            session,
            "document.received",
            actor=f"peer:{peer.name}",
            target=public_id,
            details=details,
        )
        return public_id, [r.agency.code for r in routes]

    async def txn(session: AsyncSession) -> dict[str, Any]:
        return await once_txn(session, peer, arrival, receipt, effect)

    return await svc.db.write("federation_document", txn), events


async def _deliver_txn(
    session: AsyncSession,
    doc_id: int,
    public_id: str,
    routes: list[Route],
    peer_name: str,
    now: datetime,
    events: Events,
) -> None:
    """Each receiving agency's row with its first step (01), and the event that tells it."""
    for route in routes:
        await repo.add_recipient_txn(
            session,
            doc_id,
            route.agency.id,
            route.agency.code,
            StatusCode.ARRIVED.value,
            now,
            actor_name=peer_name,
            note=route.note,
        )
        data = {"id": public_id, "status": "01"}
        events.append((agency_channel(route.agency.code), "document.arrived", data))


async def _addressees_txn(
    session: AsyncSession, peer: Peer, message: EdxmlDocument, codes: list[str]
) -> dict[str, int]:
    """The ids of the addressed agencies, which the peer must be allowed to deliver to, from a
    sender the peer speaks for."""
    sender = message.sender.organ_id
    if sender not in peer.agencies:
        raise Forbidden(
            f"Server {peer.name} may not send for {sender}.",
            detail_vi=f"Máy chủ {peer.name} không được gửi văn bản thay cho cơ quan {sender}.",
        )
    agencies = await repo.agencies_by_code_txn(session, codes)
    refused = [c for c in codes if c not in agencies or not peer.may_deliver_to(c)]
    if refused:
        raise Forbidden(
            f"Server {peer.name} may not deliver to {', '.join(refused)}.",
            detail_vi=f"Máy chủ {peer.name} không được chuyển văn bản tới: {', '.join(refused)}.",
        )
    return {code: agencies[code].id for code in codes}


async def _receive_status(
    svc: Services, peer: Peer, arrival: Arrival, receipt: bytes
) -> tuple[dict[str, Any], Events]:
    """A recipient's handling step for a document we sent, or its answer to our request."""
    package = parse_package(arrival.body)
    status = status_of(package)
    code = parse_code(status.status_code)
    agency = status.from_organ.organ_id
    if code is None or code not in HANDLING | ANSWERS or agency not in peer.agencies:
        raise Forbidden(
            f"Server {peer.name} may not report status {status.status_code} for {agency}.",
            detail_vi=f"Máy chủ {peer.name} không được báo trạng thái cho cơ quan {agency}.",
        )
    # a signed status must be the reporting agency's, as a signed document must be the sender's
    await check_envelope(svc.envelope, arrival.body, package, agency)
    events: Events = []

    async def effect(session: AsyncSession) -> tuple[str, list[str]]:
        doc = await repo.get_document_txn(session, arrival.ref)
        if doc is None or doc.sender_agency_id is None:
            raise DocumentNotFound()
        rec = await repo.recipient_for_txn(session, doc.id, agency)
        if rec is None:
            raise DocumentNotFound()
        latest = await repo.latest_event_at_txn(session, rec.id)
        if code in ANSWERS:
            kind = arrival.answers or rec.pending_request
            if rec.pending_request == kind:
                rec.pending_request = None
            if code is StatusCode.ACCEPTED and kind in ("1", "3"):
                rec.closed = "revoked" if kind == "1" else "replaced"
        # edXML timestamps have whole seconds: never place a step before the one it follows
        at = status.timestamp.astimezone(dt.UTC)
        if latest is not None and at < latest:
            at = latest
        actor = status.staff_name or peer.name
        session.add(
            StatusEvent(
                recipient_id=rec.id,
                code=code.value,
                note=status.description,
                actor_name=actor,
                at=at,
            )
        )
        # statuses may arrive out of order: each is kept on the timeline, and the current one
        # only moves forward in the handling (01 < 02/03 < 04 < 05 < 06)
        if code in HANDLING and _rank(code) >= _rank(StatusCode(rec.status)):
            rec.status = code.value
            rec.updated_at = utcnow()
        data = {"id": doc.public_id, "agency": agency, "status": code.value}
        events.append((agency_channel(doc.sender_code), "document.status", data))
        return doc.public_id, [agency]

    async def txn(session: AsyncSession) -> dict[str, Any]:
        return await once_txn(session, peer, arrival, receipt, effect)

    return await svc.db.write("federation_status", txn), events


_Request = tuple[int, str, list[str], dict[str, str], Any, str | None]


async def _read_request(svc: Services, arrival: Arrival) -> _Request:
    """Kind, note, addressed agencies, changes, the replacement's id and the claimed sender of
    a request: an edXML package (``BussinessDocType`` 1–3), or JSON as queued before."""
    if arrival.body.lstrip()[:1] == b"{":
        return (*_parse_request(arrival.body), None)
    package = parse_package(arrival.body)
    message = document_of(package)
    kind = message.business_type
    if kind not in (1, 2, 3):
        raise BadField("BussinessDocType", "Unknown request.", "Loại đề nghị không hợp lệ.")
    await check_envelope(svc.envelope, arrival.body, package, message.sender.organ_id)
    changes: dict[str, str] = {}
    if kind == 2:
        changes = {"subject": message.subject, "urgency": str(min(4, message.priority + 1))}
        if message.due_date is not None:
            changes["due_date"] = message.due_date.isoformat()
    codes = [o.organ_id for o in message.to]
    note = message.business_reason[:2000]
    return kind, note, codes, changes, arrival.new_ref, message.sender.organ_id


def _parse_request(body: bytes) -> tuple[int, str, list[str], dict[str, str], Any]:
    """Kind, note, addressed agencies, changes and the replacement's id of a JSON request."""
    try:
        payload = jsonstrict.loads(body)
        kind = int(payload["kind"])
        note = str(payload.get("note", ""))[:2000]
        codes = [str(c) for c in payload["to"]]
        changes = {str(k): str(v) for k, v in dict(payload.get("changes") or {}).items()}
        new_ref = payload.get("new_ref")
    except (ValueError, KeyError, TypeError):
        raise BadField("body", "Malformed request.", "Đề nghị không đúng định dạng.") from None
    if kind not in (1, 2, 3):
        raise BadField("kind", "Unknown request.", "Loại đề nghị không hợp lệ.")
    return kind, note, codes, changes, new_ref


def _apply_changes(doc: Document, changes: dict[str, str]) -> None:
    """An update (2): the subject, due date or urgency the sender changed."""
    if "subject" in changes:
        doc.subject = changes["subject"][:2000]
    if "due_date" in changes:
        doc.due_date = dt.date.fromisoformat(changes["due_date"])
    if "urgency" in changes and changes["urgency"] in ("1", "2", "3", "4"):
        doc.urgency = int(changes["urgency"])


async def _receive_request(
    svc: Services, peer: Peer, arrival: Arrival, receipt: bytes
) -> tuple[dict[str, Any], Events]:
    """The sender asks to revoke (1), update (2) or replace (3) a document it sent us."""
    kind, note, codes, changes, new_ref, sender = await _read_request(svc, arrival)
    events: Events = []

    async def effect(session: AsyncSession) -> tuple[str, list[str]]:
        doc = await repo.received_document_txn(session, peer.name, arrival.ref)
        if doc is None:
            raise DocumentNotFound()  # not here yet: the sender retries
        if sender is not None and sender != doc.sender_code:
            raise Forbidden(
                f"The request names {sender}, not the document's sender {doc.sender_code}.",
                detail_vi=f"Đề nghị khai từ {sender}, không phải cơ quan gửi văn bản.",
            )
        if kind == 2:
            _apply_changes(doc, changes)
        if kind == 3 and isinstance(new_ref, str):
            newer = await repo.received_document_txn(session, peer.name, new_ref)
            if newer is None:
                raise DocumentNotFound()  # the replacement is not here yet: retried
            newer.replaces_id = doc.id
        doc.business_type = kind
        for rec in await repo.recipients_txn(session, doc.id):
            if rec.agency_code not in codes or rec.closed:
                continue
            await repo.add_request_txn(session, rec, str(kind), note, actor_name=peer.name)
            data = {"id": doc.public_id, "agency": rec.agency_code, "status": "13"}
            events.append((agency_channel(rec.agency_code), "document.status", data))
        return doc.public_id, codes

    async def txn(session: AsyncSession) -> dict[str, Any]:
        return await once_txn(session, peer, arrival, receipt, effect)

    return await svc.db.write("federation_request", txn), events
