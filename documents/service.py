"""Sending, receiving and handling official documents within one server: the decisions.

Handlers parse and authorise the caller; this module decides and calls :mod:`documents.repo`
inside one transaction per step; realtime events go out after the commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.access import access_of, sees_as_sender
from documents.checker import SignatureChecker
from documents.errors import (
    BadField,
    BadTransition,
    DocumentNotFound,
    SignatureRejected,
)
from documents.federation.config import FederationConfig
from documents.federation.outbox import enqueue_requests_txn, enqueue_txn
from documents.files import FileStore
from documents.models import Attachment, Document, Recipient
from documents.msglog import append_log_txn, digest_of
from documents.pdfinfo import pdf_info
from documents.statuses import ACTORS, ANSWERS, NEXT, REQUEST_KIND_VI, StatusCode, parse_code
from server.audit.log import append_txn
from server.auth.principal import Principal, Role
from server.db import Database
from server.db.base import utcnow
from server.errors import Forbidden
from server.realtime import Hub
from server.realtime.rules import agency_channel, user_channel

log = logging.getLogger(__name__)
VN = dt.timezone(dt.timedelta(hours=7))
MAX_RECIPIENTS = 500


def today_vn() -> dt.date:
    return dt.datetime.now(VN).date()


def _text(data: dict[str, Any], key: str, max_len: int, *, required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadField(key, f"{key} must be text.", f"Trường {key} phải là chuỗi ký tự.")
    value = value.strip()
    if required and not value:
        raise BadField(key, f"{key} is required.", f"Trường {key} không được để trống.")
    if len(value) > max_len:
        raise BadField(key, f"{key} is too long.", f"Trường {key} dài quá {max_len} ký tự.")
    return value


def parse_date(key: str, value: Any) -> dt.date | None:
    """``yyyy-mm-dd`` (ISO) or ``yyyy/mm/dd`` (edXML), empty for none."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            pass
    raise BadField(
        key, f"{key} must be a date yyyy-mm-dd.", f"Trường {key} phải là ngày yyyy-mm-dd."
    )


def _int_in(data: dict[str, Any], key: str, lo: int, hi: int, default: int) -> int:
    value = data.get(key, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = lo - 1
    if isinstance(value, bool) or not lo <= number <= hi:
        raise BadField(
            key, f"{key} must be between {lo} and {hi}.", f"Trường {key} phải từ {lo} đến {hi}."
        )
    return number


@dataclass(frozen=True, slots=True)
class NewDocument:
    """The metadata of a document to send, checked when parsed."""

    number: str
    subject: str
    to: tuple[str, ...]
    notation: str = ""
    doc_type: str = ""
    place: str = ""
    promulgation_date: dt.date | None = None
    signer_name: str = ""
    signer_position: str = ""
    urgency: int = 1
    confidentiality: int = 0
    due_date: dt.date | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> NewDocument:
        raw_to = data.get("to")
        if isinstance(raw_to, str):
            raw_to = [c for c in raw_to.replace(";", ",").split(",")]
        if not isinstance(raw_to, list) or not all(isinstance(c, str) for c in raw_to):
            raise BadField(
                "to", "to must be a list of agency codes.", "Nơi nhận phải là danh sách mã cơ quan."
            )
        to = tuple(dict.fromkeys(c.strip() for c in raw_to if c.strip()))
        if not to:
            raise BadField("to", "Choose at least one recipient.", "Chọn ít nhất một nơi nhận.")
        if len(to) > MAX_RECIPIENTS:
            raise BadField("to", "Too many recipients.", "Quá nhiều nơi nhận.")
        return cls(
            number=_text(data, "number", 50, required=True),
            subject=_text(data, "subject", 2000, required=True),
            to=to,
            notation=_text(data, "notation", 100),
            doc_type=_text(data, "doc_type", 100),
            place=_text(data, "place", 200),
            promulgation_date=parse_date("promulgation_date", data.get("promulgation_date")),
            signer_name=_text(data, "signer_name", 200),
            signer_position=_text(data, "signer_position", 200),
            urgency=_int_in(data, "urgency", 1, 4, 1),
            confidentiality=_int_in(data, "confidentiality", 0, 3, 0),
            due_date=parse_date("due_date", data.get("due_date")),
        )


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    data: bytes
    media_type: str = "application/pdf"


@dataclass
class Services:
    """What the document services need, owned by the application."""

    db: Database
    store: FileStore
    checker: SignatureChecker
    hub: Hub | None = None
    federation: FederationConfig | None = None
    """Peers this server exchanges with; None when it exchanges within itself only."""
    wake: Callable[[], None] | None = None
    """Wakes the outbox worker after a commit that queued messages."""
    seal_cert: asn1_x509.Certificate | None = None
    """This server's seal certificate (signs receipts), for evidence bundles."""

    def wake_outbox(self) -> None:
        if self.wake is not None:
            self.wake()

    async def publish(self, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Realtime notices after a commit; a hub failure never undoes the committed step."""
        if self.hub is None:
            return
        for channel, kind, data in events:
            try:
                await self.hub.publish(channel, kind, data)
            except Exception as exc:
                log.warning("realtime publish to %s failed: %s", channel, exc)


def _clean_name(name: str, default: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (base or default)[:255]


async def check_signed(checker: SignatureChecker, data: bytes) -> str:
    """The validator's summary when every signature is good; :class:`SignatureRejected` else."""
    report = await checker.check(data)
    if report.ok and report.signatures:
        return report.summary_vi
    reasons = [s.summary_vi for s in report.signatures if not s.ok]
    raise SignatureRejected(
        report.summary_vi,
        reasons,
        [
            {"signer": s.signer, "ok": s.ok, "problems": s.problems, "summary_vi": s.summary_vi}
            for s in report.signatures
        ],
    )


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
    if not p.has(Role.CLERK):
        raise Forbidden(
            "Only a clerk sends documents.", detail_vi="Chỉ văn thư được gửi văn bản đi."
        )
    if p.agency_code in meta.to:
        raise BadField(
            "to", "An agency cannot send to itself.", "Không gửi văn bản cho chính cơ quan mình."
        )
    info = await pdf_info(main.data, max_pages=0)
    summary = await check_signed(svc.checker, main.data)
    main_sha = await svc.store.put(main.data)
    stored = [(a, await svc.store.put(a.data)) for a in attachments]
    public_id = uuid.uuid4().hex
    now = utcnow()

    async def txn(session: AsyncSession) -> list[str]:
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
        unknown = [c for c in meta.to if c not in agencies and not _in(remote, c)]
        if unknown:
            raise BadField(
                "to",
                f"Unknown agencies: {', '.join(unknown)}.",
                f"Không có cơ quan mang mã: {', '.join(unknown)}.",
            )
        old_doc = None
        if replaces is not None:
            old_doc = await repo.get_document_txn(session, replaces)
            if old_doc is None or not sees_as_sender(p, old_doc):
                raise DocumentNotFound()
        await repo.ensure_file_txn(
            session, main_sha, len(main.data), "application/pdf", info.page_count
        )
        for upload, sha in stored:
            await repo.ensure_file_txn(session, sha, len(upload.data), upload.media_type, None)
        doc = Document(
            public_id=public_id,
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
            main_sha256=main_sha,
            main_name=_clean_name(main.name, "van-ban.pdf"),
            state="sent",
            created_at=now,
            sent_at=now,
            signature_summary=summary,
            business_type=3 if old_doc is not None else 0,
            replaces_id=old_doc.id if old_doc is not None else None,
        )
        session.add(doc)
        await session.flush()
        if old_doc is not None:
            label = f"{meta.number}/{meta.notation}" if meta.notation else meta.number
            old_recs = await repo.recipients_txn(session, old_doc.id)
            await enqueue_requests_txn(
                session,
                svc.federation,
                old_doc.public_id,
                [r.agency_code for r in old_recs if r.agency_id is None and not r.closed],
                3,
                f"Đề nghị thay thế bằng văn bản {label}",
                new_ref=public_id,
            )
            for old_rec in old_recs:
                if old_rec.closed:
                    continue
                old_rec.pending_request = "3"
                await repo.add_event_txn(
                    session,
                    old_rec,
                    StatusCode.REQUEST.value,
                    note=f"Đề nghị thay thế bằng văn bản {label}",
                    actor_login=p.login,
                    actor_name=p.full_name,
                    moves_status=False,
                )
        for position, (upload, sha) in enumerate(stored):
            session.add(
                Attachment(
                    document_id=doc.id,
                    position=position,
                    name=_clean_name(upload.name, f"phu-luc-{position + 1}"),
                    sha256=sha,
                )
            )
        envelope = document_digest_fields(doc, [sha for _u, sha in stored])
        for peer_name, codes in remote.items():
            for code in codes:
                rec = Recipient(
                    document_id=doc.id,
                    agency_id=None,
                    agency_code=code,
                    status=StatusCode.PENDING.value,
                    received_at=now,
                    updated_at=now,
                )
                session.add(rec)
                await session.flush()
                await repo.add_event_txn(
                    session,
                    rec,
                    StatusCode.PENDING.value,
                    note=f"Chuyển qua máy chủ {peer_name}",
                    actor_name="hệ thống",
                    at=now,
                )
            await enqueue_txn(session, peer_name, "document", {"document": public_id, "to": codes})
        for code in (c for c in meta.to if c in agencies):
            rec = Recipient(
                document_id=doc.id,
                agency_id=agencies[code].id,
                agency_code=code,
                status=StatusCode.ARRIVED.value,
                received_at=now,
                updated_at=now,
            )
            session.add(rec)
            await session.flush()
            await repo.add_event_txn(
                session, rec, StatusCode.ARRIVED.value, actor_name="hệ thống", at=now
            )
            await append_log_txn(
                session,
                direction="local",
                kind="document",
                message_id=uuid.uuid4().hex,
                document_public_id=public_id,
                digest=digest_of(envelope),
                peer=code,
                agencies=[code],
            )
        await append_txn(
            session,
            "document.sent",
            actor=p.login,
            actor_user_id=p.user_id,
            target=public_id,
            details={
                "number": meta.number,
                "to": list(meta.to),
                "main": main_sha,
                "replaces": replaces,
            },
        )
        return [c for c in meta.to if c in agencies]

    local = await svc.db.write("send_document", txn)
    svc.wake_outbox()
    events: list[tuple[str, str, dict[str, Any]]] = [
        (agency_channel(p.agency_code), "document.sent", {"id": public_id})
    ]
    events += [
        (agency_channel(code), "document.arrived", {"id": public_id, "status": "01"})
        for code in local
    ]
    await svc.publish(events)
    return public_id


def _in(remote: dict[str, list[str]], code: str) -> bool:
    return any(code in codes for codes in remote.values())


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


@dataclass(frozen=True, slots=True)
class StatusChange:
    code: StatusCode
    note: str = ""
    assignee: str = ""
    """Login of the official a leader assigns the document to (04)."""
    handling_due: dt.date | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> StatusChange:
        raw = data.get("code")
        code = parse_code(raw) if isinstance(raw, str) else None
        if code is None or code in (StatusCode.ARRIVED, StatusCode.PENDING, StatusCode.REQUEST):
            raise BadField(
                "code",
                "code must be one of 02, 03, 04, 05, 06, 15, 16.",
                "Mã trạng thái phải là một trong 02, 03, 04, 05, 06, 15, 16.",
            )
        note = _text(data, "note", 2000)
        if code is StatusCode.REFUSED and not note:
            raise BadField("note", "A refusal needs a reason.", "Từ chối tiếp nhận cần nêu lý do.")
        assignee = _text(data, "assignee", 64)
        if code is StatusCode.ASSIGNED and not assignee:
            raise BadField(
                "assignee", "Choose the official to assign.", "Chọn người được phân công xử lý."
            )
        return cls(code, note, assignee, parse_date("due_date", data.get("due_date")))


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
            "date": _iso(doc.promulgation_date),
            "agency": rec.agency_code,
            "code": code.value,
            "note": note,
            "at": _iso(utcnow()),
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


_TRANSITION_VI = {
    StatusCode.REFUSED: "Chỉ từ chối được văn bản vừa đến, chưa vào sổ.",
    StatusCode.REGISTERED: "Văn bản này đã được vào sổ hoặc đã bị từ chối.",
    StatusCode.ASSIGNED: "Chỉ phân công được văn bản đã vào sổ và chưa hoàn thành.",
    StatusCode.IN_PROGRESS: "Văn bản phải được phân công trước khi xử lý.",
    StatusCode.COMPLETED: "Văn bản phải được phân công trước khi hoàn thành.",
}


async def change_status(
    svc: Services, p: Principal, public_id: str, change: StatusChange
) -> dict[str, Any]:
    """Register, refuse, assign, mark in progress or completed; return the recipient's view."""
    result: dict[str, Any] = {}
    assignee_id: list[int] = []
    queued: list[bool] = []

    async def txn(session: AsyncSession) -> tuple[str, str]:
        doc = await repo.get_document_txn(session, public_id)
        if doc is None:
            raise DocumentNotFound()
        own = await repo.recipient_for_txn(session, doc.id, p.agency_code)
        access = access_of(p, doc, own)
        rec = access.own_recipient
        if rec is None:
            if access.as_sender:
                raise Forbidden(
                    "Only a recipient agency records handling steps.",
                    detail_vi="Chỉ cơ quan nhận mới cập nhật được tình trạng xử lý.",
                )
            raise DocumentNotFound()
        code = change.code
        is_assignee = rec.assignee_id is not None and rec.assignee_id == p.user_id
        may = p.has(*ACTORS[code]) or (
            is_assignee and code in (StatusCode.IN_PROGRESS, StatusCode.COMPLETED)
        )
        if not may:
            raise Forbidden(
                f"Your roles do not allow status {code.value}.",
                detail_vi=f"Bạn không có quyền chuyển văn bản sang trạng thái “{code.label_vi}”.",
            )
        current = StatusCode(rec.status)
        if code in ANSWERS:
            if doc.origin_peer and doc.origin_ref:
                queued.append(True)
            return await _answer_request_txn(session, p, doc, rec, code, change.note, result)
        if rec.closed:
            raise BadTransition(
                current.value, code.value, "Văn bản đã bị thu hồi hoặc thay thế; không xử lý tiếp."
            )
        if code not in NEXT[current]:
            raise BadTransition(current.value, code.value, _TRANSITION_VI[code])
        note = change.note
        details: dict[str, Any] = {"agency": rec.agency_code, "code": code.value}
        if code is StatusCode.REGISTERED:
            year = dt.datetime.now(VN).year
            rec.register_year = year
            rec.incoming_number = await repo.next_incoming_number_txn(
                session, rec.agency_code, year
            )
            details["incoming_number"] = rec.incoming_number
            note = note or f"Số đến {rec.incoming_number}/{year}"
        elif code is StatusCode.ASSIGNED:
            user = await repo.user_of_agency_txn(session, change.assignee, p.agency_id)
            if user is None:
                raise BadField(
                    "assignee",
                    f"No active official {change.assignee!r} in your agency.",
                    f"Không có cán bộ “{change.assignee}” trong cơ quan.",
                )
            rec.assignee_id = user.id
            rec.handling_due = change.handling_due
            assignee_id.append(user.id)
            details["assignee"] = user.login
            due = f", hạn {change.handling_due.isoformat()}" if change.handling_due else ""
            note = f"Giao {user.full_name}{due}" + (f". {note}" if note else "")
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
        if doc.origin_peer and doc.origin_ref:
            await _status_back_txn(session, doc, rec, code, note, p)
            queued.append(True)
        action = {
            StatusCode.REFUSED: "document.refused",
            StatusCode.REGISTERED: "document.registered",
            StatusCode.ASSIGNED: "document.assigned",
        }.get(code, "document.status")
        await append_txn(
            session,
            action,
            actor=p.login,
            actor_user_id=p.user_id,
            target=public_id,
            details=details,
        )
        result.update(
            {
                "id": public_id,
                "agency": rec.agency_code,
                "status": rec.status,
                "incoming_number": rec.incoming_number,
                "register_year": rec.register_year,
            }
        )
        return doc.sender_code, rec.agency_code

    sender, agency = await svc.db.write("document_status", txn)
    if queued:
        svc.wake_outbox()
    data = {"id": public_id, "agency": agency, "status": change.code.value}
    events = [
        (agency_channel(sender), "document.status", data),
        (agency_channel(agency), "document.status", data),
    ]
    events += [(user_channel(uid), "document.assigned", {"id": public_id}) for uid in assignee_id]
    await svc.publish(events)
    return result


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def document_view_txn(session: AsyncSession, p: Principal, public_id: str) -> dict[str, Any]:
    """The document as the caller may see it: metadata, files and the timelines visible."""
    doc = await repo.get_document_txn(session, public_id)
    if doc is None:
        raise DocumentNotFound()
    own = await repo.recipient_for_txn(session, doc.id, p.agency_code)
    access = access_of(p, doc, own)
    if not access.visible:
        raise DocumentNotFound()
    recs = (
        await repo.recipients_txn(session, doc.id)
        if access.as_sender
        else [access.own_recipient]
        if access.own_recipient
        else []
    )
    events = await repo.events_txn(session, [r.id for r in recs])
    names = await repo.agency_names_txn(session, [doc.sender_code, *(r.agency_code for r in recs)])
    users = await repo.user_names_txn(session, [r.assignee_id for r in recs if r.assignee_id])
    atts = await repo.attachments_txn(session, doc.id)
    by_rec: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        by_rec.setdefault(e.recipient_id, []).append(
            {
                "code": e.code,
                "label": StatusCode(e.code).label_vi,
                "note": e.note,
                "actor": e.actor_name or e.actor_login,
                "at": _iso(e.at),
                "at_vn": e.at.astimezone(VN).strftime("%d/%m/%Y %H:%M"),
            }
        )
    view = document_summary(doc, names)
    replaced_by = await repo.replacements_txn(session, doc.id)
    replaces = await repo.public_id_of_txn(session, doc.replaces_id) if doc.replaces_id else None
    view.update(
        {
            "role": "sender" if access.as_sender else "recipient",
            "business_type": doc.business_type,
            "replaces": replaces,
            "replaced_by": replaced_by,
            "signature_summary": doc.signature_summary,
            "main": {"name": doc.main_name, "sha256": doc.main_sha256},
            "attachments": [{"name": a.name, "sha256": a.sha256} for a in atts],
            "recipients": [
                {
                    "agency_code": r.agency_code,
                    "agency_name": names.get(r.agency_code, r.agency_code),
                    "status": r.status,
                    "status_label": StatusCode(r.status).label_vi,
                    "incoming_number": r.incoming_number,
                    "register_year": r.register_year,
                    "assignee": users.get(r.assignee_id, ("", ""))[0] if r.assignee_id else None,
                    "assignee_name": users.get(r.assignee_id, ("", ""))[1]
                    if r.assignee_id
                    else None,
                    "handling_due": _iso(r.handling_due),
                    "pending_request": r.pending_request,
                    "closed": r.closed,
                    "timeline": by_rec.get(r.id, []),
                }
                for r in recs
            ],
        }
    )
    return view


UNVERIFIED_VI = "Thông tin văn bản chưa được xác thực (nhập thủ công)"
"""Shown with a manually imported document: its PDF may be validly signed, but the number,
subject and sender come from an envelope nobody authenticated."""


def document_summary(doc: Document, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": doc.public_id,
        "number": doc.number,
        "notation": doc.notation,
        "doc_type": doc.doc_type,
        "subject": doc.subject,
        "sender": {"code": doc.sender_code, "name": names.get(doc.sender_code, doc.sender_code)},
        "place": doc.place,
        "promulgation_date": _iso(doc.promulgation_date),
        "signer_name": doc.signer_name,
        "signer_position": doc.signer_position,
        "urgency": doc.urgency,
        "confidentiality": doc.confidentiality,
        "due_date": _iso(doc.due_date),
        "sent_at": _iso(doc.sent_at),
        "metadata_verified": doc.metadata_verified,
        "metadata_note_vi": "" if doc.metadata_verified else UNVERIFIED_VI,
    }


async def inbox_view_txn(
    session: AsyncSession, p: Principal, f: repo.Filters
) -> list[dict[str, Any]]:
    rows = await repo.inbox_txn(session, p, f)
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
                "received_at": _iso(rec.received_at),
            }
        )
        out.append(item)
    return out


async def outbox_view_txn(
    session: AsyncSession, p: Principal, f: repo.Filters
) -> list[dict[str, Any]]:
    docs = await repo.outbox_txn(session, p, f)
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
    doc = await repo.get_document_txn(session, public_id)
    if doc is None:
        raise DocumentNotFound()
    own = await repo.recipient_for_txn(session, doc.id, p.agency_code)
    if not access_of(p, doc, own).visible:
        raise DocumentNotFound()
    if sha256 == doc.main_sha256:
        return doc.main_name, "application/pdf"
    for att in await repo.attachments_txn(session, doc.id):
        if att.sha256 == sha256:
            return att.name, "application/octet-stream"
    raise DocumentNotFound()
