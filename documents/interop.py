"""Import and export of documents as edXML (QCVN 102:2016) for systems that speak it."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from documents import exchange_repo, repo
from documents.dates import VN
from documents.edxml import (
    EdxmlAttachment,
    EdxmlDocument,
    Organ,
    ParsedPackage,
    build_document,
    document_of,
    parse_package,
)
from documents.envelope import EnvelopeVerdict, check_envelope, sign_package
from documents.errors import BadField, DocumentNotFound
from documents.models import Attachment, Document, Recipient
from documents.msglog import append_log_txn
from documents.pdfinfo import pdf_info
from documents.received import ReceivedFiles, check_and_store, insert_received_txn
from documents.services import Services
from documents.statuses import StatusCode
from documents.views import visible_document_txn
from server.audit.log import append_txn
from server.auth.principal import Principal, Role
from server.db.base import utcnow
from server.errors import Forbidden
from server.realtime.rules import agency_channel

_Loaded = tuple[Document, int | None, list[Attachment], list[Recipient], dict[str, str]]


async def export_edxml(svc: Services, p: Principal, public_id: str) -> bytes:
    """The document as an edXML envelope, files included; 404 unless the caller may see it."""

    async def check(session: AsyncSession) -> None:
        await visible_document_txn(session, p, public_id)

    await svc.db.read("document_edxml_access", check)
    return await document_message(svc, public_id)


async def _load_txn(session: AsyncSession, public_id: str, to: list[str] | None) -> _Loaded:
    """The document, its main file's page count, attachments, the recipients addressed and the
    names of the agencies known here."""
    found = await repo.document_and_pages_txn(session, public_id)
    if found is None:
        raise DocumentNotFound()
    doc, pages, sender_name = found
    recs_named = [
        (r, name)
        for r, name in await repo.recipients_with_names_txn(session, doc.id)
        if to is None or r.agency_code in to
    ]
    atts = await repo.attachments_txn(session, doc.id)
    names = {r.agency_code: name for r, name in recs_named if name}
    if sender_name:
        names[doc.sender_code] = sender_name
    return doc, pages, atts, [r for r, _name in recs_named], names


async def document_message(svc: Services, public_id: str, to: list[str] | None = None) -> bytes:
    """The edXML envelope of a document, addressed to ``to`` (every recipient when None).

    The bytes are deterministic (content ids come from the files' digests, the trace time is the
    send time) so that a message sent again has the same digest as the first time: the receipt
    a receiver kept for the first copy then fits the retry.
    """

    async def txn(session: AsyncSession) -> _Loaded:
        return await _load_txn(session, public_id, to)

    doc, pages, atts, recs, names = await svc.db.read("document_edxml", txn)
    main = await svc.store.get(doc.main_sha256)
    files = [EdxmlAttachment(doc.main_name, main, content_id=f"0-{doc.main_sha256[:32]}")]
    for i, att in enumerate(atts, start=1):
        data = await svc.store.get(att.sha256)
        files.append(
            EdxmlAttachment(
                att.name, data, _media_type(att.name), content_id=f"{i}-{att.sha256[:32]}"
            )
        )
    if pages is None:  # counted when the file was stored; not parsed again for each message
        pages = (await pdf_info(main, max_pages=0)).page_count
    sent = doc.promulgation_date or (doc.sent_at or utcnow()).astimezone(VN).date()
    message = EdxmlDocument(
        sender=_organ(doc.sender_code, doc.sender_name or names.get(doc.sender_code, "")),
        to=tuple(_organ(r.agency_code, names.get(r.agency_code, "")) for r in recs),
        code_number=doc.number,
        code_notation=doc.notation,
        promulgation_date=sent,
        subject=doc.subject,
        attachments=tuple(files),
        place=doc.place,
        type_name=doc.doc_type,
        signer_position=doc.signer_position,
        signer_name=doc.signer_name,
        due_date=doc.due_date,
        priority=max(0, doc.urgency - 1),
        page_amount=pages,
        business_type=doc.business_type,
        sent_at=doc.sent_at,
    )
    return await signed_package(svc, message)


async def signed_package(svc: Services, message: EdxmlDocument) -> bytes:
    """The package of ``message``, signed in its header with the sender's seal when this server
    holds one for the sender (a document sent here), else unsigned."""
    package = build_document(message)
    if svc.envelope is None:
        return package.to_bytes()
    return await sign_package(package, message.sender.organ_id, svc.envelope.seals)


def _organ(code: str, name: str) -> Organ:
    return Organ(code, name, organization_in_charge=name)


def _media_type(name: str) -> str:
    return "application/pdf" if name.lower().endswith(".pdf") else "application/octet-stream"


def _is_pdf(att: EdxmlAttachment) -> bool:
    return att.content_type == "application/pdf" or att.name.lower().endswith(".pdf")


def envelope_verified(verdict: EnvelopeVerdict) -> bool:
    """Whether the envelope's metadata (From, Code, Subject…) is bound to its sender.

    Only by the envelope's own XML signature (``ds:Signature`` in the edXML header), checked by
    :func:`documents.envelope.check_envelope`: valid, chained to the trust roots and made with a
    certificate that names the ``From`` agency. Without one, a manual import is stored with
    ``metadata_verified`` False, because the PDF's signature covers the file, not the number or
    subject a clerk may have edited in the envelope.
    """
    return verdict.signed


async def _refuse_channel_senders(svc: Services, message: EdxmlDocument) -> None:
    """Refuse a package claiming a sender that has its own authenticated channel to us.

    An agency on this server sends through the app, one on a known federation peer through that
    peer (which authenticates the server and may speak only for its agencies): a manual import
    in their name can only be a copy someone edited, so it is never taken in.
    """
    code = message.sender.organ_id

    async def local(session: AsyncSession) -> bool:
        return code in await repo.agencies_by_code_txn(session, [code])

    peer = svc.federation.peer_for_agency(code) if svc.federation else None
    if peer is None and not await svc.db.read("edxml_sender", local):
        return
    channel = f"máy chủ liên thông {peer.name}" if peer else "hệ thống Liên Thông trên máy chủ này"
    raise Forbidden(
        f"The package claims to come from {code}, which sends only through "
        f"{'federation peer ' + peer.name if peer else 'this server'}; it cannot be imported.",
        detail_vi=(
            f"Gói tin khai là của {code} nhưng không đến qua kênh liên thông của đơn vị đó "
            f"({channel}); văn bản của đơn vị này chỉ được nhận qua kênh đó, không nhập thủ công."
        ),
        code="documents.import_sender",
    )


def _addressed_package(p: Principal, data: bytes) -> tuple[ParsedPackage, EdxmlDocument]:
    """The parsed package, imported by a clerk of an agency it is addressed to."""
    if not p.has(Role.CLERK):
        raise Forbidden(
            "Only a clerk imports documents.", detail_vi="Chỉ văn thư được nhập văn bản."
        )
    package = parse_package(data)
    message = document_of(package)
    if p.agency_code not in {o.organ_id for o in message.to}:
        raise BadField(
            "To",
            "The message is not addressed to your agency.",
            "Thông điệp không gửi tới cơ quan của bạn.",
        )
    return package, message


def _main_pdf(message: EdxmlDocument) -> EdxmlAttachment:
    """The main file: the package's first PDF."""
    pdfs = [a for a in message.attachments if _is_pdf(a)]
    if not pdfs:
        raise BadField(
            "Attachment", "No PDF in the message.", "Thông điệp không có tệp PDF văn bản."
        )
    return pdfs[0]


async def import_edxml(svc: Services, p: Principal, data: bytes) -> tuple[str, bool]:
    """Receive an edXML document into the caller's agency's inbox.

    The main file is the first PDF; it must carry a valid signature, as for a send. The message
    id is derived from the envelope's DocumentId and the main file's digest, so importing the
    same message again changes nothing and returns the same document (``created`` False).

    The envelope is only as trustworthy as the hands it passed through: a sender on this server
    or on a known peer is refused (:func:`_refuse_channel_senders`), and any other import is
    stored with its metadata marked unverified (:func:`envelope_verified`).
    """
    package, message = _addressed_package(p, data)
    await _refuse_channel_senders(svc, message)
    main = _main_pdf(message)
    verdict = await check_envelope(svc.envelope, data, package, message.sender.organ_id)
    main_sha = hashlib.sha256(main.data).hexdigest()
    message_id = hashlib.sha256(
        f"{message.document_id}|{main_sha}|{p.agency_code}".encode()
    ).hexdigest()

    async def existing(session: AsyncSession) -> str | None:
        return await exchange_repo.logged_document_txn(session, message_id)

    known = await svc.db.read("edxml_known", existing)
    if known is not None:
        return known, False
    files = await check_and_store(svc, message, main)
    public_id = uuid.uuid4().hex

    async def txn(session: AsyncSession) -> str:
        again = await existing(session)
        if again is not None:
            return again
        await _import_txn(session, p, data, message, files, public_id, message_id, verdict)
        return public_id

    got = await svc.db.write("import_edxml", txn)
    if got == public_id:
        data_event: dict[str, Any] = {"id": public_id, "status": "01"}
        await svc.publish([(agency_channel(p.agency_code), "document.arrived", data_event)])
    return got, got == public_id


async def _import_txn(
    session: AsyncSession,
    p: Principal,
    data: bytes,
    message: EdxmlDocument,
    files: ReceivedFiles,
    public_id: str,
    message_id: str,
    verdict: EnvelopeVerdict,
) -> None:
    now = utcnow()
    doc = await insert_received_txn(
        session,
        message,
        files,
        public_id,
        now,
        metadata_verified=envelope_verified(verdict),
        envelope_signature=verdict.line_vi if verdict.signed else "",
    )
    await repo.add_recipient_txn(
        session,
        doc.id,
        p.agency_id,
        p.agency_code,
        StatusCode.ARRIVED.value,
        now,
        actor_name="edXML",
    )
    await append_log_txn(
        session,
        direction="in",
        kind="document",
        message_id=message_id,
        document_public_id=public_id,
        digest=hashlib.sha256(data).hexdigest(),
        peer=message.sender.organ_id,
        agencies=[p.agency_code],
    )
    await append_txn(
        session,
        "document.imported",
        actor=p.login,
        actor_user_id=p.user_id,
        target=public_id,
        details={"document_id": message.document_id, "main": files.main_sha},
    )
