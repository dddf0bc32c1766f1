"""Drafts (dự thảo): a clerk composes a document with an unsigned PDF, a leader of the agency
signs it with their own token through the signing agent (two-phase signing, :mod:`signing.remote`),
the clerk has the server add the agency's signature (the seal, :mod:`documents.sealing`) and sends
it (:func:`documents.sending.send_document`, which validates both signatures like any send).

Decree 30/2020/NĐ-CP, Article 32: the agency's signature comes only after the competent person
has signed. Each step writes a new file that is an incremental update of the previous one; no
file is rewritten. Who may see a draft: the clerks and leaders of its agency and the person who
made it; anyone else gets the same 404 as for a draft that does not exist.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.drafts_repo import get_draft_txn, move_draft_txn, open_drafts_txn
from documents.errors import BadField, DocumentNotFound, SignatureRejected
from documents.inputs import NewDocument, Upload
from documents.models import Draft
from documents.pdfinfo import pdf_info
from documents.sealing import Seals
from documents.sending import send_document
from documents.services import Services
from server.audit.log import append_txn
from server.auth.principal import Principal, Role
from server.db.base import utcnow
from server.errors import Conflict, Forbidden
from signing.pades import Level, SignOptions
from signing.remote import RemoteSigning
from signing.stamps import Role as StampRole
from signing.twophase import FinishBody, PrepareBody, finish_for, prepare_for

STATE_VI = {
    "draft": "Dự thảo — chờ lãnh đạo ký",
    "signed": "Lãnh đạo đã ký — chờ ký số của cơ quan",
    "sealed": "Đã ký số của cơ quan — sẵn sàng gửi",
    "sent": "Đã gửi",
}
DEFAULT_ANCHOR = "CHỦ TỊCH"


class DraftConflict(Conflict):
    code = "documents.draft_state"

    def __init__(self, state: str, detail_vi: str) -> None:
        super().__init__(
            f"the draft is {state}",
            detail_vi=f"{detail_vi} (trạng thái hiện tại: {STATE_VI.get(state, state)}).",
            extra={"state": state},
        )


def sees_draft(p: Principal, draft: Draft) -> bool:
    if draft.created_by == p.user_id:
        return True
    return p.agency_id == draft.agency_id and p.has(Role.CLERK, Role.LEADER)


def anchor_of(fields: dict[str, Any]) -> str:
    """The position title printed above the signature (``CHỦ TỊCH``, ``GIÁM ĐỐC``): where the
    leader's signature and then the seal are placed."""
    position = str(fields.get("signer_position") or "").strip()
    return position.upper() if position else DEFAULT_ANCHOR


def _context(draft: Draft) -> str:
    return f"draft:{draft.public_id}:{draft.main_sha256}"


def draft_dict(draft: Draft) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(draft.fields)
    return {
        "id": draft.public_id,
        "state": draft.state,
        "state_label": STATE_VI.get(draft.state, draft.state),
        "agency_code": draft.agency_code,
        "number": str(fields.get("number", "")),
        "notation": str(fields.get("notation", "")),
        "subject": str(fields.get("subject", "")),
        "to": list(fields.get("to") or []),
        "signer_position": str(fields.get("signer_position", "")),
        "anchor_text": anchor_of(fields),
        "main": {"name": draft.main_name, "sha256": draft.main_sha256},
        "original_sha256": draft.original_sha256,
        "attachments": json.loads(draft.attachments),
        "signer_subject": draft.signer_subject,
        "signed_at": draft.signed_at.isoformat() if draft.signed_at else None,
        "sealed_at": draft.sealed_at.isoformat() if draft.sealed_at else None,
        "document_id": draft.document_public_id,
        "created_at": draft.created_at.isoformat(),
    }


async def _load(svc: Services, p: Principal, public_id: str) -> Draft:
    async def run(session: AsyncSession) -> Draft:
        draft = await get_draft_txn(session, public_id)
        if draft is None or not sees_draft(p, draft):
            raise DocumentNotFound()
        return draft

    return await svc.db.read("draft_get", run)


async def draft_view_txn(session: AsyncSession, p: Principal, public_id: str) -> dict[str, Any]:
    draft = await get_draft_txn(session, public_id)
    if draft is None or not sees_draft(p, draft):
        raise DocumentNotFound()
    return draft_dict(draft)


async def list_drafts_txn(session: AsyncSession, p: Principal) -> list[dict[str, Any]]:
    if not p.has(Role.CLERK, Role.LEADER):
        return []
    return [draft_dict(d) for d in await open_drafts_txn(session, p.agency_id)]


async def create_draft(
    svc: Services, p: Principal, fields: dict[str, Any], main: Upload, attachments: list[Upload]
) -> str:
    """Store the clerk's unsigned PDF and the form as a draft; returns its public id."""
    if not p.has(Role.CLERK):
        raise Forbidden(
            "Only a clerk composes documents.", detail_vi="Chỉ văn thư được soạn văn bản."
        )
    meta = NewDocument.parse(fields)  # checked now so that the send does not fail on the form
    if p.agency_code in meta.to:
        raise BadField(
            "to", "An agency cannot send to itself.", "Không gửi văn bản cho chính cơ quan mình."
        )
    info = await pdf_info(main.data, max_pages=0)
    main_sha = await svc.store.put(main.data)
    stored = [(a, await svc.store.put(a.data)) for a in attachments]
    public_id = uuid.uuid4().hex
    now = utcnow()
    kept = {k: v for k, v in fields.items() if k != "csrf_token"}

    async def txn(session: AsyncSession) -> None:
        await repo.ensure_file_txn(
            session, main_sha, len(main.data), "application/pdf", info.page_count
        )
        for upload, sha in stored:
            await repo.ensure_file_txn(session, sha, len(upload.data), upload.media_type, None)
        session.add(
            Draft(
                public_id=public_id,
                agency_id=p.agency_id,
                agency_code=p.agency_code,
                created_by=p.user_id,
                fields=json.dumps(kept, ensure_ascii=False),
                main_sha256=main_sha,
                original_sha256=main_sha,
                main_name=(main.name.replace("\\", "/").rsplit("/", 1)[-1] or "van-ban.pdf")[:255],
                attachments=json.dumps(
                    [
                        {"name": u.name[:255], "sha256": sha, "media_type": u.media_type}
                        for u, sha in stored
                    ],
                    ensure_ascii=False,
                ),
                state="draft",
                created_at=now,
                updated_at=now,
            )
        )
        await append_txn(
            session,
            "document.draft_created",
            actor=p.login,
            actor_user_id=p.user_id,
            target=public_id,
            details={"number": meta.number, "sha256": main_sha},
        )

    await svc.db.write("draft_create", txn)
    return public_id


def _require_leader(p: Principal, draft: Draft) -> None:
    if not (p.has(Role.LEADER) and p.agency_id == draft.agency_id):
        raise Forbidden(
            "Only a leader of the agency signs its documents.",
            detail_vi="Chỉ lãnh đạo của cơ quan được ký văn bản này.",
        )


def _require_clerk(p: Principal, draft: Draft) -> None:
    if not (p.has(Role.CLERK) and p.agency_id == draft.agency_id):
        raise Forbidden(
            "Only a clerk of the agency does this.",
            detail_vi="Chỉ văn thư của cơ quan được thực hiện bước này.",
        )


async def prepare_leader_signature(
    svc: Services, remote: RemoteSigning, p: Principal, public_id: str, body: PrepareBody
) -> dict[str, Any]:
    """Step 1 of the leader's signature: the signed attributes for the agent, with what the
    agent shows the leader (number, subject)."""
    draft = await _load(svc, p, public_id)
    _require_leader(p, draft)
    if draft.state != "draft":
        raise DraftConflict(draft.state, "Văn bản đã được ký")
    fields = json.loads(draft.fields)
    options = SignOptions(
        level=Level.B_T if remote.tsa_url else Level.B_B,
        tsa_url=remote.tsa_url,
        role=StampRole.LEADER,
        anchor_text=anchor_of(fields),
        reason="Ký ban hành văn bản",
    )

    async def main_pdf() -> bytes:
        return await svc.store.get(draft.main_sha256)

    prepared = await prepare_for(
        remote, body, main_pdf, principal=p, context=_context(draft), options=options
    )
    number = str(fields.get("number", ""))
    if fields.get("notation"):
        number += f"/{fields['notation']}"
    return {**prepared, "document_number": number, "subject": str(fields.get("subject", ""))}


async def finish_leader_signature(
    svc: Services, remote: RemoteSigning, p: Principal, public_id: str, body: FinishBody
) -> dict[str, Any]:
    """Step 2: embed the agent's signature, validate the result (trusted, not revoked: a
    certificate the server does not trust is refused here, not at sending), keep it."""
    draft = await _load(svc, p, public_id)
    _require_leader(p, draft)
    signed = await finish_for(remote, body, principal=p, context=_context(draft))
    report = await svc.checker.check(signed)
    if not (report.ok and report.signatures):
        raise SignatureRejected(
            report.summary_vi,
            [s.summary_vi for s in report.signatures if not s.ok],
            [
                {"signer": s.signer, "ok": s.ok, "problems": s.problems, "summary_vi": s.summary_vi}
                for s in report.signatures
            ],
        )
    # 'Người ký' is whoever's certificate signed (registered to ``p``: signing.binding), not what
    # the form said: the document, its edXML SignerInfo and the timeline carry this name
    subject = (report.signatures[-1].signer or p.full_name)[:200]
    fields = {**json.loads(draft.fields), "signer_name": subject}
    return await _advance(
        svc,
        p,
        draft,
        signed,
        "draft",
        "signed",
        "document.draft_signed",
        "Văn bản đã được ký",
        signed_by=p.user_id,
        signed_at=utcnow(),
        signer_subject=subject,
        fields=json.dumps(fields, ensure_ascii=False),
    )


async def seal_draft(svc: Services, seals: Seals, p: Principal, public_id: str) -> dict[str, Any]:
    """The agency's signature by the server's key, after the leader's (a clerk's step)."""
    draft = await _load(svc, p, public_id)
    _require_clerk(p, draft)
    if draft.state != "signed":
        raise DraftConflict(draft.state, "Chỉ ký số của cơ quan sau khi lãnh đạo đã ký")
    data = await svc.store.get(draft.main_sha256)
    sealed = await seals.seal(draft.agency_code, data, anchor_of(json.loads(draft.fields)))
    return await _advance(
        svc,
        p,
        draft,
        sealed,
        "signed",
        "sealed",
        "document.draft_sealed",
        "Văn bản đã được ký số của cơ quan",
        sealed_at=utcnow(),
    )


async def _advance(
    svc: Services,
    p: Principal,
    draft: Draft,
    data: bytes,
    from_state: str,
    to_state: str,
    action: str,
    conflict_vi: str,
    **columns: Any,
) -> dict[str, Any]:
    """Keep ``data`` (an incremental update of the draft's file) as the draft's new file and
    move it ``from_state`` → ``to_state`` once, audited; a second attempt is a conflict."""
    info = await pdf_info(data, max_pages=0)
    sha = await svc.store.put(data)

    async def txn(session: AsyncSession) -> dict[str, Any]:
        await repo.ensure_file_txn(session, sha, len(data), "application/pdf", info.page_count)
        moved = await move_draft_txn(
            session,
            draft.id,
            from_state,
            draft.main_sha256,
            state=to_state,
            main_sha256=sha,
            **columns,
        )
        if not moved:
            raise DraftConflict(to_state, conflict_vi)
        await append_txn(
            session,
            action,
            actor=p.login,
            actor_user_id=p.user_id,
            target=draft.public_id,
            details={"sha256": sha, "previous": draft.main_sha256}
            | ({"signer": columns["signer_subject"]} if "signer_subject" in columns else {}),
        )
        fresh = await get_draft_txn(session, draft.public_id)
        assert fresh is not None
        return draft_dict(fresh)

    return await svc.db.write(f"draft_{to_state}", txn)


async def send_draft(svc: Services, p: Principal, public_id: str) -> str:
    """Send a sealed draft as a document (validated like any send); returns the document's id.

    The draft is claimed first (``sealed`` → ``sent``) so that two clicks send once; if the send
    is refused, it goes back to ``sealed``."""
    draft = await _load(svc, p, public_id)
    _require_clerk(p, draft)
    if draft.state != "sealed":
        raise DraftConflict(draft.state, "Chỉ gửi văn bản đã có chữ ký của lãnh đạo và của cơ quan")

    async def claim(session: AsyncSession) -> bool:
        return await move_draft_txn(session, draft.id, "sealed", draft.main_sha256, state="sent")

    if not await svc.db.write("draft_claim", claim):
        raise DraftConflict("sent", "Văn bản đang được gửi hoặc đã gửi")
    try:
        meta = NewDocument.parse(json.loads(draft.fields))
        main = Upload(draft.main_name, await svc.store.get(draft.main_sha256))
        attachments = [
            Upload(a["name"], await svc.store.get(a["sha256"]), a["media_type"])
            for a in json.loads(draft.attachments)
        ]
        doc_id = await send_document(svc, p, meta, main, attachments)
    except BaseException:

        async def release(session: AsyncSession) -> None:
            await move_draft_txn(session, draft.id, "sent", draft.main_sha256, state="sealed")

        await svc.db.write("draft_release", release)
        raise

    async def done(session: AsyncSession) -> None:
        await move_draft_txn(
            session, draft.id, "sent", draft.main_sha256, document_public_id=doc_id
        )

    await svc.db.write("draft_sent", done)
    return doc_id
