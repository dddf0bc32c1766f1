"""Tables of the document-exchange domain: documents, their files, recipients, statuses, the
incoming registers, the hash-chained message log and the federation outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import true

from server.db.base import Base, UtcDateTime, utcnow
from server.search import folded_default, keep_folded


class StoredFile(Base):
    """A file known by the SHA-256 of its bytes; the bytes live in the :class:`FileStore`."""

    __tablename__ = "doc_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    page_count: Mapped[int | None] = mapped_column(Integer)
    """Pages of a PDF (pypdf), None for other files."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Document(Base):
    """An official document (văn bản) issued by one agency and sent to others."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_sender_created", "sender_code", "created_at"),
        Index("ix_documents_number", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    """Random identifier used in URLs and messages, so that ids reveal nothing."""
    sender_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    """The sending agency when it is on this server; None for documents imported from elsewhere."""
    sender_code: Mapped[str] = mapped_column(String(32))
    sender_name: Mapped[str] = mapped_column(String(300), default="")
    """The sender's name as the message gave it (agencies not on this server)."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    number: Mapped[str] = mapped_column(String(50))
    """Số (``123``)."""
    notation: Mapped[str] = mapped_column(String(100), default="")
    """Ký hiệu (``UBND-VP``)."""
    doc_type: Mapped[str] = mapped_column(String(100), default="")
    """Loại văn bản (Quyết định, Công văn…)."""
    subject: Mapped[str] = mapped_column(Text)
    """Trích yếu."""
    search_folded: Mapped[str] = mapped_column(
        Text, default=folded_default("number", "notation", "subject"), server_default=""
    )
    """``number``, ``notation`` and ``subject`` by the search fold (:mod:`server.search`), kept
    on every write: what the inbox and outbox search compares."""
    place: Mapped[str] = mapped_column(String(200), default="")
    promulgation_date: Mapped[date | None] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_position: Mapped[str] = mapped_column(String(200), default="")
    urgency: Mapped[int] = mapped_column(Integer, default=1)
    """Độ khẩn: 1 thường, 2 khẩn, 3 thượng khẩn, 4 hoả tốc."""
    confidentiality: Mapped[int] = mapped_column(Integer, default=0)
    """Độ mật: 0 thường, 1 mật, 2 tối mật, 3 tuyệt mật."""
    due_date: Mapped[date | None] = mapped_column(Date)
    main_sha256: Mapped[str] = mapped_column(ForeignKey("doc_files.sha256"))
    main_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="sent")
    """``draft`` or ``sent``."""
    business_type: Mapped[int] = mapped_column(Integer, default=0)
    """edXML BussinessDocType: 0 new, 1 revoke, 2 update, 3 replace."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signature_summary: Mapped[str] = mapped_column(Text, default="")
    """The validator's Vietnamese verdict at send time."""
    origin_peer: Mapped[str | None] = mapped_column(String(100))
    """The federated server a received document came from (statuses go back there)."""
    origin_ref: Mapped[str | None] = mapped_column(String(64))
    """The document's public id on the origin server."""
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    """The document this one replaces (edXML business type 3); the old one stays readable."""
    metadata_verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Whether the metadata (sender, number, subject…) is bound to an authenticated source: sent
    here, or received from the sender's federation peer. False for a manual edXML import: the PDF
    signature covers the file, not the envelope's metadata (until the envelope's own signature is
    checked)."""
    envelope_signature: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The verdict on the edXML envelope's own XML signature when it arrived (``Chữ ký gói tin:
    hợp lệ — <agency>``), empty for a document sent here or a package without one."""


keep_folded(Document, "search_folded", "number", "notation", "subject")


class Attachment(Base):
    """A file attached to a document (phụ lục), in order."""

    __tablename__ = "doc_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("doc_files.sha256"))


class Recipient(Base):
    """One receiving agency of a document, with where it stands in that agency's handling."""

    __tablename__ = "doc_recipients"
    __table_args__ = (
        UniqueConstraint("document_id", "agency_code", name="uq_doc_recipients_doc_agency"),
        UniqueConstraint(
            "agency_code", "register_year", "incoming_number", name="uq_doc_recipients_register"
        ),
        Index("ix_doc_recipients_agency_received", "agency_code", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    agency_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(2))
    """Latest edXML status code (``01``…``06``)."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    register_year: Mapped[int | None] = mapped_column(Integer)
    incoming_number: Mapped[int | None] = mapped_column(Integer)
    """Số đến in the agency's register (sổ văn bản đến) of ``register_year``."""
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    handling_due: Mapped[date | None] = mapped_column(Date)
    pending_request: Mapped[str | None] = mapped_column(String(1))
    """A sender's request awaiting this recipient's answer: ``1`` revoke, ``2`` update,
    ``3`` replace (edXML business types)."""
    closed: Mapped[str] = mapped_column(String(16), default="")
    """``revoked`` or ``replaced`` once the recipient accepted; handling stops there."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegisterCounter(Base):
    """The last incoming number given by one agency in one year."""

    __tablename__ = "doc_register_counters"

    agency_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class StatusEvent(Base):
    """One step of a recipient's handling, as the sender sees it on the timeline."""

    __tablename__ = "doc_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("doc_recipients.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(2))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_login: Mapped[str] = mapped_column(String(64), default="")
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MessageLogEntry(Base):
    """One message sent or received, hash-chained like the audit log."""

    __tablename__ = "doc_message_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    direction: Mapped[str] = mapped_column(String(8))
    """``out``, ``in`` or ``local`` (both ends on this server)."""
    kind: Mapped[str] = mapped_column(String(32))
    """``document`` or ``status``."""
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    document_public_id: Mapped[str] = mapped_column(String(36), index=True)
    peer: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the message's canonical content."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    agencies: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The recipient agencies the message concerns (space-separated codes): an evidence bundle
    shows the entry in full to them and to the sender, to others only as a salted commitment.
    Not part of the chain hash."""
    salt: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """Random salt (hex) of the entry's commitment in other parties' evidence bundles; never
    leaves the server in a bundle of a party that does not see the entry."""


class OutboxMessage(Base):
    """A message waiting to go to another server (durable, retried with backoff)."""

    __tablename__ = "doc_outbox"
    __table_args__ = (Index("ix_doc_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    peer: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Receipt(Base):
    """A signed receipt (biên nhận): the receiving server's seal over a message's SHA-256."""

    __tablename__ = "doc_receipts"
    __table_args__ = (
        UniqueConstraint("message_id", "direction", name="uq_doc_receipts_message_direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))
    """``in``: we signed it for a message we received; ``out``: the peer's for one we sent."""
    document_public_id: Mapped[str] = mapped_column(String(36), index=True)
    peer: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the message body the receipt covers."""
    cms: Mapped[bytes] = mapped_column(LargeBinary)
    """The detached CMS SignedData (DER)."""
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Draft(Base):
    """A document being prepared (dự thảo): the clerk's unsigned PDF, then the leader's signed
    version, then the sealed one, until it is sent and becomes a :class:`Document`.

    Each version is a new file (an incremental update of the previous one); the row points to
    the current one and keeps the original."""

    __tablename__ = "doc_drafts"
    __table_args__ = (Index("ix_doc_drafts_agency_created", "agency_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    agency_code: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    fields: Mapped[str] = mapped_column(Text)
    """The compose form's fields (JSON), parsed again by ``NewDocument.parse`` at send time."""
    main_sha256: Mapped[str] = mapped_column(ForeignKey("doc_files.sha256"))
    """The current version of the main PDF."""
    original_sha256: Mapped[str] = mapped_column(ForeignKey("doc_files.sha256"))
    """The clerk's unsigned PDF."""
    main_name: Mapped[str] = mapped_column(String(255))
    attachments: Mapped[str] = mapped_column(Text, default="[]")
    """``[{"name", "sha256", "media_type"}]`` (JSON)."""
    state: Mapped[str] = mapped_column(String(16), default="draft")
    """``draft`` → ``signed`` (leader) → ``sealed`` (agency) → ``sent``."""
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_subject: Mapped[str] = mapped_column(String(500), default="")
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sealed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    document_public_id: Mapped[str | None] = mapped_column(String(36))
    """The sent document, once sent."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
