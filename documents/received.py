"""Taking in an edXML document that arrives, from a peer server or a clerk's import: the checks
on its files and the rows it becomes, written once for both ways in.

The main file is checked as for a send (a readable PDF with a valid signature) before anything is
written; every file is stored by its digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.checker import check_signed
from documents.edxml import EdxmlAttachment, EdxmlDocument
from documents.models import Attachment, Document
from documents.pdfinfo import pdf_info
from documents.services import Services


@dataclass(frozen=True, slots=True)
class ReceivedFiles:
    """The files of an arriving document, checked and stored."""

    main: EdxmlAttachment
    main_sha: str
    pages: int | None
    summary: str
    """The validator's summary of the main file's signatures."""
    others: list[tuple[EdxmlAttachment, str]]
    """Every other attachment with its digest, in the message's order."""


async def check_and_store(
    svc: Services, message: EdxmlDocument, main: EdxmlAttachment
) -> ReceivedFiles:
    """Check ``main`` (readable, validly signed) and store every file of ``message``."""
    info = await pdf_info(main.data, max_pages=0)
    summary = await check_signed(svc.checker, main.data)  # full validation on arrival
    main_sha = await svc.store.put(main.data)
    others = [a for a in message.attachments if a is not main]
    stored = [(a, await svc.store.put(a.data)) for a in others]
    return ReceivedFiles(main, main_sha, info.page_count, summary, stored)


async def insert_received_txn(
    session: AsyncSession,
    message: EdxmlDocument,
    files: ReceivedFiles,
    public_id: str,
    now: datetime,
    *,
    origin_peer: str | None = None,
    origin_ref: str | None = None,
    metadata_verified: bool = True,
    envelope_signature: str = "",
) -> Document:
    """The received document with its files and attachments; no recipient yet."""
    main = files.main
    await repo.ensure_file_txn(
        session, files.main_sha, len(main.data), "application/pdf", files.pages
    )
    for att, sha in files.others:
        await repo.ensure_file_txn(session, sha, len(att.data), att.content_type, None)
    doc = Document(
        public_id=public_id,
        sender_agency_id=None,  # received, not sent, whoever the sender is
        sender_code=message.sender.organ_id,
        sender_name=message.sender.organ_name,
        created_by=None,
        number=message.code_number,
        notation=message.code_notation,
        doc_type=message.type_name,
        subject=message.subject,
        place=message.place,
        promulgation_date=message.promulgation_date,
        signer_name=message.signer_name,
        signer_position=message.signer_position,
        urgency=min(4, message.priority + 1),
        confidentiality=0,
        due_date=message.due_date,
        main_sha256=files.main_sha,
        main_name=main.name[:255],
        state="sent",
        business_type=message.business_type,
        created_at=now,
        sent_at=message.sent_at or now,
        signature_summary=files.summary,
        origin_peer=origin_peer,
        origin_ref=origin_ref,
        metadata_verified=metadata_verified,
        envelope_signature=envelope_signature,
    )
    session.add(doc)
    await session.flush()
    for position, (att, sha) in enumerate(files.others):
        session.add(
            Attachment(document_id=doc.id, position=position, name=att.name[:255], sha256=sha)
        )
    return doc
