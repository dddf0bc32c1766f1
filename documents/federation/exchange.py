"""Delivering outbox messages to peers and receiving theirs.

Exactly-once effect: a receiver commits the message, its effects and the receipt it signed in one
transaction, keyed by the message id (unique); a copy that arrives again — a retry after a lost
answer, a duplicate on the wire, a sender restarted mid-batch — gets the stored receipt back and
changes nothing. A sender marks a message delivered only with a receipt that verifies against the
peer's pinned seal and covers the digest of exactly the bytes it sent; anything else is retried
with backoff, across restarts (the outbox is a table).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from documents import interop, repo
from documents.edxml import EdxmlStatus, Organ, parse_document, parse_status, status_to_xml
from documents.errors import BadField, DocumentNotFound
from documents.federation.config import FederationConfig, Peer
from documents.federation.outbox import Claimed, any_due_txn, claim_due_txn, failed_txn
from documents.federation.receipts import SealKey, sign_receipt, verify_receipt
from documents.models import Attachment, Document, OutboxMessage, Receipt, Recipient, StatusEvent
from documents.msglog import append_log_txn
from documents.pdfinfo import pdf_info
from documents.service import Services, check_signed
from documents.statuses import ANSWERS, HANDLING, StatusCode, parse_code
from server.audit.log import append_txn
from server.auth.principal import Principal
from server.db.base import utcnow
from server.errors import Forbidden
from server.realtime.rules import agency_channel

log = logging.getLogger(__name__)
PATH = "/api/v1/federation/messages"
_MESSAGE_ID = re.compile(r"^[0-9a-f]{16,64}$")


@dataclass
class Federation:
    """The running exchange of one process: config, seal key, HTTP session, worker task."""

    config: FederationConfig
    seal: SealKey
    session: aiohttp.ClientSession | None = None
    wake_event: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    concurrency: int = 8
    _ssl: dict[str, ssl.SSLContext | bool] = field(default_factory=dict)

    def wake(self) -> None:
        self.wake_event.set()

    def client_ssl(self, peer: Peer) -> ssl.SSLContext | bool:
        """The TLS settings towards ``peer``, built once (loading a key is not cheap)."""
        if peer.name not in self._ssl:
            self._ssl[peer.name] = self.config.client_ssl(peer)
        return self._ssl[peer.name]


# -- sending ------------------------------------------------------------------------------------


def _status_body(payload: dict[str, Any], sender_peer_name: str) -> bytes:
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


async def _body_of(svc: Services, fed: Federation, msg: Claimed) -> tuple[bytes, str]:
    if msg.kind == "document":
        body = await interop.document_message(svc, msg.payload["document"], msg.payload["to"])
        return body, msg.payload["document"]
    if msg.kind == "request":
        return _request_body(msg.payload), msg.payload["ref"]
    return _status_body(msg.payload, fed.config.server_id), msg.payload["ref"]


def _request_body(payload: dict[str, Any]) -> bytes:
    """A revoke/update/replace request between Liên Thông servers (JSON, deterministic)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


async def deliver(svc: Services, fed: Federation, msg: Claimed) -> bool:
    """Send one message; True when a good receipt came back and was recorded."""
    peer = fed.config.peer_named(msg.peer)
    if peer is None or fed.session is None:
        await svc.db.write(
            "outbox_failed",
            lambda s: failed_txn(s, msg.id, f"unknown peer {msg.peer}", fed.config.max_backoff),
        )
        return False
    try:
        body, ref = await _body_of(svc, fed, msg)
        digest = hashlib.sha256(body).hexdigest()
        headers = {
            "Authorization": f"Bearer {peer.token}",
            "Content-Type": "application/xml",
            "X-LT-Message-Id": msg.message_id,
            "X-LT-Kind": msg.kind,
            "X-LT-Ref": ref,
            "X-LT-From": fed.config.server_id,
        }
        if msg.payload.get("answers"):
            # which request a 15/16 answers (revoke, update, replace): requests may cross
            headers["X-LT-Answers"] = str(msg.payload["answers"])
        async with fed.session.post(
            peer.url + PATH, data=body, headers=headers, ssl=fed.client_ssl(peer)
        ) as resp:
            answer = await resp.json(content_type=None)
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {str(answer)[:500]}")
        if answer.get("message_id") != msg.message_id:
            raise RuntimeError(f"the receipt is for message {answer.get('message_id')!r}")
        receipt = base64.b64decode(answer["receipt"])
        verify_receipt(receipt, digest, peer.seal_cert)  # only the addressed peer's seal counts
    except Exception as exc:  # every failure is retried; the reason is kept on the row
        reason = f"{type(exc).__name__}: {exc}"
        log.info("delivery of %s to %s failed: %s", msg.message_id, msg.peer, reason)
        await svc.db.write(
            "outbox_failed", lambda s: failed_txn(s, msg.id, reason, fed.config.max_backoff)
        )
        return False

    events: list[tuple[str, str, dict[str, Any]]] = []

    local = str(msg.payload.get("local") or ref)  # our copy's id (statuses refer to theirs)

    async def record(session: AsyncSession) -> None:
        # one statement marks the message delivered, unless a concurrent delivery (an expired
        # lease) already did: that one then waits on the row and finds nothing to update
        marked = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == msg.id, OutboxMessage.delivered_at.is_(None))
            .values(delivered_at=utcnow(), last_error="")
            .execution_options(synchronize_session=False)
        )
        if not marked.rowcount:  # type: ignore[attr-defined]
            return
        session.add(
            Receipt(
                message_id=msg.message_id,
                direction="out",
                document_public_id=local,
                peer=peer.name,
                kind=msg.kind,
                digest=digest,
                cms=receipt,
            )
        )
        await append_log_txn(
            session,
            direction="out",
            kind=msg.kind,
            message_id=msg.message_id,
            document_public_id=local,
            digest=digest,
            peer=peer.name,
            agencies=msg.payload.get("to") or [str(msg.payload.get("agency", ""))],
        )
        if msg.kind == "document":
            for rec, sender_code in await repo.recipients_by_public_id_txn(session, ref):
                if rec.agency_code in msg.payload["to"] and rec.status == StatusCode.PENDING:
                    await repo.add_event_txn(
                        session,
                        rec,
                        StatusCode.ARRIVED.value,
                        note=f"Biên nhận có chữ ký số của máy chủ {peer.name}",
                        actor_name=peer.name,
                    )
                    events.append(
                        (
                            agency_channel(sender_code),
                            "document.status",
                            {"id": ref, "agency": rec.agency_code, "status": "01"},
                        )
                    )

    await svc.db.write("outbox_delivered", record)
    await svc.publish(events)
    return True


async def deliver_due(svc: Services, fed: Federation) -> int:
    """One pass over the due messages; returns how many were delivered."""
    # On SQLite a look first, so that an idle worker never takes the write lock; PostgreSQL's
    # claim (FOR UPDATE SKIP LOCKED) costs no more than the look, so it goes straight to it.
    if svc.db.is_sqlite and not await svc.db.read("outbox_due", any_due_txn):
        return 0
    claimed = await svc.db.write(
        "outbox_claim", lambda s: claim_due_txn(s, fed.config.lease_seconds)
    )
    if not claimed:
        return 0
    gate = asyncio.Semaphore(fed.concurrency)

    async def one(msg: Claimed) -> bool:
        async with gate:
            return await deliver(svc, fed, msg)

    results = await asyncio.gather(*(one(m) for m in claimed))
    return sum(1 for ok in results if ok)


async def run_worker(svc: Services, fed: Federation) -> None:
    """Deliver forever: at once when woken by a commit, else every ``poll_seconds``."""
    while True:
        fed.wake_event.clear()
        try:
            delivered = await deliver_due(svc, fed)
        except asyncio.CancelledError:
            raise
        except Exception:  # the worker must outlive a database hiccup
            log.exception("outbox pass failed")
            delivered = 0
        if delivered:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fed.wake_event.wait(), fed.config.poll_seconds)


# -- receiving ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrival:
    message_id: str
    kind: str
    ref: str
    body: bytes
    digest: str
    answers: str | None = None


def parse_arrival(headers: Any, body: bytes) -> Arrival:
    message_id = str(headers.get("X-LT-Message-Id", "")).strip().lower()
    kind = str(headers.get("X-LT-Kind", "")).strip()
    ref = str(headers.get("X-LT-Ref", "")).strip()
    if (
        not _MESSAGE_ID.match(message_id)
        or kind not in ("document", "status", "request")
        or not (0 < len(ref) <= 64)
    ):
        raise BadField(
            "X-LT-Message-Id",
            "X-LT-Message-Id, X-LT-Kind and X-LT-Ref are required.",
            "Thiếu mã thông điệp, loại thông điệp hoặc mã tham chiếu.",
        )
    answers = str(headers.get("X-LT-Answers", "")).strip()
    return Arrival(
        message_id,
        kind,
        ref,
        body,
        hashlib.sha256(body).hexdigest(),
        answers if answers in ("1", "2", "3") else None,
    )


async def _stored_receipt(session: AsyncSession, peer: Peer, message_id: str) -> Receipt | None:
    """Our receipt for a message ``peer`` delivered before (a copy gets it again).

    Bound to the peer: a message id another peer already used is refused, never answered with
    that peer's receipt (which would tell the caller of a document it may not know, and let it
    stand in for the real message)."""
    found: Receipt | None = await session.scalar(
        select(Receipt).where(Receipt.message_id == message_id, Receipt.direction == "in")
    )
    if found is not None and found.peer != peer.name:
        raise Forbidden(
            f"Message id {message_id} was used by another server.",
            detail_vi="Mã thông điệp này đã được một máy chủ liên thông khác sử dụng.",
            code="documents.message_id_taken",
        )
    return found


def _answer(receipt: Receipt) -> dict[str, Any]:
    return {
        "message_id": receipt.message_id,
        "digest": receipt.digest,
        "receipt": base64.b64encode(receipt.cms).decode("ascii"),
        "document": receipt.document_public_id,
    }


async def receive(svc: Services, fed: Federation, p: Principal, arrival: Arrival) -> dict[str, Any]:
    """Take one message from a peer; answer with our signed receipt (the same one for a copy)."""
    peer = fed.config.peer_by_login(p.login)
    if peer is None:
        raise Forbidden(
            "Only a registered peer server delivers messages.",
            detail_vi="Chỉ máy chủ liên thông đã đăng ký mới được chuyển thông điệp.",
        )

    async def known(session: AsyncSession) -> Receipt | None:
        return await _stored_receipt(session, peer, arrival.message_id)

    stored = await svc.db.read_one("federation_known", known)
    if stored is not None:
        return _answer(stored)
    receipt = sign_receipt(fed.seal, arrival.body, body_sha256=arrival.digest)
    # the exact bytes received, kept by their digest for evidence bundles
    await svc.store.put(arrival.body, sha256=arrival.digest)
    try:
        if arrival.kind == "document":
            answer, events = await _receive_document(svc, peer, arrival, receipt)
        elif arrival.kind == "request":
            answer, events = await _receive_request(svc, peer, arrival, receipt)
        else:
            answer, events = await _receive_status(svc, peer, arrival, receipt)
    except IntegrityError:
        # the same message committed by a concurrent copy: answer with that one's receipt
        stored = await svc.db.read("federation_known", known)
        if stored is None:
            raise
        return _answer(stored)
    await svc.publish(events)
    return answer


Events = list[tuple[str, str, dict[str, Any]]]


def _rank(code: StatusCode) -> int:
    return 3 if code is StatusCode.REFUSED else int(code.value)


async def _receive_document(
    svc: Services, peer: Peer, arrival: Arrival, receipt: bytes
) -> tuple[dict[str, Any], Events]:
    message = parse_document(arrival.body)
    codes = list(dict.fromkeys(o.organ_id for o in message.to))
    pdfs = [a for a in message.attachments if a.content_type == "application/pdf"]
    if not pdfs:
        raise BadField(
            "Attachment", "No PDF in the message.", "Thông điệp không có tệp PDF văn bản."
        )
    main = pdfs[0]
    info = await pdf_info(main.data, max_pages=0)
    summary = await check_signed(svc.checker, main.data)  # full validation on arrival
    main_sha = await svc.store.put(main.data)
    others = [a for a in message.attachments if a is not main]
    shas = [await svc.store.put(a.data) for a in others]
    public_id = hashlib.sha256(f"{peer.name}|{arrival.message_id}".encode()).hexdigest()[:32]
    now = utcnow()
    events: Events = []

    async def txn(session: AsyncSession) -> dict[str, Any]:
        stored = await _stored_receipt(session, peer, arrival.message_id)
        if stored is not None:
            return _answer(stored)
        if message.sender.organ_id not in peer.agencies:
            raise Forbidden(
                f"Server {peer.name} may not send for {message.sender.organ_id}.",
                detail_vi=(
                    f"Máy chủ {peer.name} không được gửi văn bản thay cho cơ quan "
                    f"{message.sender.organ_id}."
                ),
            )
        agencies = await repo.agencies_by_code_txn(session, codes)
        refused = [c for c in codes if c not in agencies or not peer.may_deliver_to(c)]
        if refused:
            raise Forbidden(
                f"Server {peer.name} may not deliver to {', '.join(refused)}.",
                detail_vi=f"Máy chủ {peer.name} không được chuyển văn bản tới: {', '.join(refused)}.",
            )
        await repo.ensure_file_txn(
            session, main_sha, len(main.data), "application/pdf", info.page_count
        )
        for att, sha in zip(others, shas, strict=True):
            await repo.ensure_file_txn(session, sha, len(att.data), att.content_type, None)
        doc = Document(
            public_id=public_id,
            sender_agency_id=None,
            sender_code=message.sender.organ_id,
            sender_name=message.sender.organ_name,
            number=message.code_number,
            notation=message.code_notation,
            doc_type=message.type_name,
            subject=message.subject,
            place=message.place,
            promulgation_date=message.promulgation_date,
            signer_name=message.signer_name,
            signer_position=message.signer_position,
            urgency=min(4, message.priority + 1),
            due_date=message.due_date,
            main_sha256=main_sha,
            main_name=main.name[:255],
            business_type=message.business_type,
            created_at=now,
            sent_at=message.sent_at or now,
            signature_summary=summary,
            origin_peer=peer.name,
            origin_ref=arrival.ref,
        )
        session.add(doc)
        await session.flush()
        for position, (att, sha) in enumerate(zip(others, shas, strict=True)):
            session.add(
                Attachment(document_id=doc.id, position=position, name=att.name[:255], sha256=sha)
            )
        for code in codes:
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
                session, rec, StatusCode.ARRIVED.value, actor_name=peer.name, at=now
            )
            events.append(
                (agency_channel(code), "document.arrived", {"id": public_id, "status": "01"})
            )
        row = Receipt(
            message_id=arrival.message_id,
            direction="in",
            document_public_id=public_id,
            peer=peer.name,
            kind="document",
            digest=arrival.digest,
            cms=receipt,
        )
        session.add(row)
        await append_log_txn(
            session,
            direction="in",
            kind="document",
            message_id=arrival.message_id,
            document_public_id=public_id,
            digest=arrival.digest,
            peer=peer.name,
            agencies=codes,
        )
        await append_txn(
            session,
            "document.received",
            actor=f"peer:{peer.name}",
            target=public_id,
            details={"message_id": arrival.message_id, "to": codes, "main": main_sha},
        )
        await session.flush()
        return _answer(row)

    return await svc.db.write("federation_document", txn), events


async def _receive_status(
    svc: Services, peer: Peer, arrival: Arrival, receipt: bytes
) -> tuple[dict[str, Any], Events]:
    status = parse_status(arrival.body)
    code = parse_code(status.status_code)
    agency = status.from_organ.organ_id
    if code is None or code not in HANDLING | ANSWERS or agency not in peer.agencies:
        raise Forbidden(
            f"Server {peer.name} may not report status {status.status_code} for {agency}.",
            detail_vi=f"Máy chủ {peer.name} không được báo trạng thái cho cơ quan {agency}.",
        )
    events: Events = []

    async def txn(session: AsyncSession) -> dict[str, Any]:
        stored = await _stored_receipt(session, peer, arrival.message_id)
        if stored is not None:
            return _answer(stored)
        doc = await repo.get_document_txn(session, arrival.ref)
        if doc is None or doc.sender_agency_id is None:
            raise DocumentNotFound()
        rec = await repo.recipient_for_txn(session, doc.id, agency)
        if rec is None:
            raise DocumentNotFound()
        latest = await session.scalar(
            select(StatusEvent.at)
            .where(StatusEvent.recipient_id == rec.id)
            .order_by(StatusEvent.at.desc())
            .limit(1)
        )
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
        session.add(
            StatusEvent(
                recipient_id=rec.id,
                code=code.value,
                note=status.description,
                actor_name=status.staff_name or peer.name,
                at=at,
            )
        )
        # statuses may arrive out of order: each is kept on the timeline, and the current one
        # only moves forward in the handling (01 < 02/03 < 04 < 05 < 06)
        if code in HANDLING and _rank(code) >= _rank(StatusCode(rec.status)):
            rec.status = code.value
            rec.updated_at = utcnow()
        row = Receipt(
            message_id=arrival.message_id,
            direction="in",
            document_public_id=doc.public_id,
            peer=peer.name,
            kind="status",
            digest=arrival.digest,
            cms=receipt,
        )
        session.add(row)
        await append_log_txn(
            session,
            direction="in",
            kind="status",
            message_id=arrival.message_id,
            document_public_id=doc.public_id,
            digest=arrival.digest,
            peer=peer.name,
            agencies=[agency],
        )
        await session.flush()
        events.append(
            (
                agency_channel(doc.sender_code),
                "document.status",
                {"id": doc.public_id, "agency": agency, "status": code.value},
            )
        )
        return _answer(row)

    return await svc.db.write("federation_status", txn), events


async def _receive_request(
    svc: Services, peer: Peer, arrival: Arrival, receipt: bytes
) -> tuple[dict[str, Any], Events]:
    """The sender asks to revoke (1), update (2) or replace (3) a document it sent us."""
    try:
        payload = json.loads(arrival.body)
        kind = int(payload["kind"])
        note = str(payload.get("note", ""))[:2000]
        codes = [str(c) for c in payload["to"]]
        changes = {str(k): str(v) for k, v in dict(payload.get("changes") or {}).items()}
        new_ref = payload.get("new_ref")
    except (ValueError, KeyError, TypeError):
        raise BadField("body", "Malformed request.", "Đề nghị không đúng định dạng.") from None
    if kind not in (1, 2, 3):
        raise BadField("kind", "Unknown request.", "Loại đề nghị không hợp lệ.")
    events: Events = []

    async def txn(session: AsyncSession) -> dict[str, Any]:
        stored = await _stored_receipt(session, peer, arrival.message_id)
        if stored is not None:
            return _answer(stored)
        doc = await _received_txn(session, peer, arrival.ref)
        if doc is None:
            raise DocumentNotFound()  # not here yet: the sender retries
        if kind == 2:
            if "subject" in changes:
                doc.subject = changes["subject"][:2000]
            if "due_date" in changes:
                doc.due_date = dt.date.fromisoformat(changes["due_date"])
            if "urgency" in changes and changes["urgency"] in ("1", "2", "3", "4"):
                doc.urgency = int(changes["urgency"])
        if kind == 3 and isinstance(new_ref, str):
            newer = await _received_txn(session, peer, new_ref)
            if newer is None:
                raise DocumentNotFound()  # the replacement is not here yet: retried
            newer.replaces_id = doc.id
        doc.business_type = kind
        for rec in await repo.recipients_txn(session, doc.id):
            if rec.agency_code not in codes or rec.closed:
                continue
            rec.pending_request = str(kind)
            await repo.add_event_txn(
                session,
                rec,
                StatusCode.REQUEST.value,
                note=note,
                actor_name=peer.name,
                moves_status=False,
            )
            events.append(
                (
                    agency_channel(rec.agency_code),
                    "document.status",
                    {"id": doc.public_id, "agency": rec.agency_code, "status": "13"},
                )
            )
        row = Receipt(
            message_id=arrival.message_id,
            direction="in",
            document_public_id=doc.public_id,
            peer=peer.name,
            kind="request",
            digest=arrival.digest,
            cms=receipt,
        )
        session.add(row)
        await append_log_txn(
            session,
            direction="in",
            kind="request",
            message_id=arrival.message_id,
            document_public_id=doc.public_id,
            digest=arrival.digest,
            peer=peer.name,
            agencies=codes,
        )
        await session.flush()
        return _answer(row)

    return await svc.db.write("federation_request", txn), events


async def _received_txn(session: AsyncSession, peer: Peer, origin_ref: str) -> Document | None:
    found: Document | None = await session.scalar(
        select(Document).where(Document.origin_peer == peer.name, Document.origin_ref == origin_ref)
    )
    return found
