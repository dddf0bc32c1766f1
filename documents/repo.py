"""SQL of documents, recipients and their timelines. Every function runs inside the caller's
transaction (the exchange's records — receipts, outbox, message log — are in
:mod:`documents.exchange_repo`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from documents.access import DESK_ROLES
from documents.models import (
    Attachment,
    Document,
    Recipient,
    RegisterCounter,
    StatusEvent,
    StoredFile,
)
from documents.statuses import StatusCode
from server.accounts.models import Agency, User
from server.auth.principal import Principal, Role
from server.db.base import utcnow
from server.search import fold, like_folded


@dataclass(frozen=True, slots=True)
class Filters:
    """Search of an inbox or outbox (tìm kiếm)."""

    q: str = ""
    """Part of the number, notation or subject."""
    status: str = ""
    agency: str = ""
    """Sender (inbox) or recipient (outbox) agency code."""
    q_codes: frozenset[str] = frozenset()
    """Agencies one of whose names (its own, a former or a later one) contains ``q``: their
    documents match too (filled in by :mod:`documents.views`)."""
    agency_codes: frozenset[str] = frozenset()
    """``agency`` with its former and later codes (filled in by :mod:`documents.views`); empty
    means ``agency`` alone."""
    date_from: date | None = None
    date_to: date | None = None
    limit: int = 50
    offset: int = 0


def _insert_ignore(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for the dialect in use (PostgreSQL or SQLite)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return pg_insert(model).values(**values).on_conflict_do_nothing()
    return sqlite_insert(model).values(**values).on_conflict_do_nothing()


async def agencies_by_code_txn(session: AsyncSession, codes: Iterable[str]) -> dict[str, Agency]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.scalars(select(Agency).where(Agency.code.in_(wanted)))
    return {a.code: a for a in rows}


async def agency_names_txn(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    return {code: a.name for code, a in (await agencies_by_code_txn(session, codes)).items()}


async def ensure_file_txn(
    session: AsyncSession, sha256: str, size: int, media_type: str, page_count: int | None
) -> None:
    """Record a stored file once, even when concurrent sends carry the same bytes."""
    values = {
        "sha256": sha256,
        "size": size,
        "media_type": media_type,
        "page_count": page_count,
        "created_at": utcnow(),
    }
    await session.execute(_insert_ignore(session, StoredFile, values))


async def get_document_txn(session: AsyncSession, public_id: str) -> Document | None:
    if len(public_id) > 36:
        return None
    doc: Document | None = await session.scalar(
        select(Document).where(Document.public_id == public_id)
    )
    return doc


async def document_and_pages_txn(
    session: AsyncSession, public_id: str
) -> tuple[Document, int | None, str] | None:
    """A document with the page count recorded for its main file and the name of its sender
    agency when that agency is ours ("" otherwise), in one statement."""
    if len(public_id) > 36:
        return None
    row = (
        await session.execute(
            select(Document, StoredFile.page_count, Agency.name)
            .outerjoin(StoredFile, StoredFile.sha256 == Document.main_sha256)
            .outerjoin(Agency, Agency.code == Document.sender_code)
            .where(Document.public_id == public_id)
        )
    ).first()
    return (row[0], row[1], row[2] or "") if row is not None else None


async def recipients_with_names_txn(
    session: AsyncSession, document_id: int
) -> list[tuple[Recipient, str]]:
    """A document's recipients, each with its agency's name when the agency is ours ("" for
    agencies on other servers), in one statement."""
    rows = await session.execute(
        select(Recipient, Agency.name)
        .outerjoin(Agency, Agency.code == Recipient.agency_code)
        .where(Recipient.document_id == document_id)
        .order_by(Recipient.id)
    )
    return [(rec, name or "") for rec, name in rows.all()]


async def recipients_txn(session: AsyncSession, document_id: int) -> list[Recipient]:
    rows = await session.scalars(
        select(Recipient).where(Recipient.document_id == document_id).order_by(Recipient.id)
    )
    return list(rows)


async def recipients_by_public_id_txn(
    session: AsyncSession, public_id: str
) -> list[tuple[Recipient, str]]:
    """The recipients of a document given its public id, each with the document's sender code
    (one statement; empty when there is no such document)."""
    if len(public_id) > 36:
        return []
    rows = await session.execute(
        select(Recipient, Document.sender_code)
        .join(Document, Document.id == Recipient.document_id)
        .where(Document.public_id == public_id)
        .order_by(Recipient.id)
    )
    return [(rec, sender) for rec, sender in rows.all()]


async def recipient_for_txn(
    session: AsyncSession, document_id: int, agency_code: str
) -> Recipient | None:
    rec: Recipient | None = await session.scalar(
        select(Recipient).where(
            Recipient.document_id == document_id, Recipient.agency_code == agency_code
        )
    )
    return rec


async def attachments_txn(session: AsyncSession, document_id: int) -> list[Attachment]:
    rows = await session.scalars(
        select(Attachment)
        .where(Attachment.document_id == document_id)
        .order_by(Attachment.position)
    )
    return list(rows)


async def events_txn(session: AsyncSession, recipient_ids: Sequence[int]) -> list[StatusEvent]:
    if not recipient_ids:
        return []
    rows = await session.scalars(
        select(StatusEvent)
        .where(StatusEvent.recipient_id.in_(list(recipient_ids)))
        .order_by(StatusEvent.at, StatusEvent.id)
    )
    return list(rows)


async def add_event_txn(
    session: AsyncSession,
    rec: Recipient,
    code: str,
    *,
    note: str = "",
    actor_login: str = "",
    actor_name: str = "",
    moves_status: bool = True,
    at: datetime | None = None,
) -> StatusEvent:
    """Put a step on the recipient's timeline (and make it the current status unless
    ``moves_status`` is false). ``at`` defaults to now; a recipient created in the same
    transaction passes its own time, so that the step costs no UPDATE of the new row."""
    now = at or utcnow()
    if moves_status and rec.status != code:
        rec.status = code
    if rec.updated_at != now:
        rec.updated_at = now
    event = StatusEvent(
        recipient_id=rec.id,
        code=code,
        note=note,
        actor_login=actor_login,
        actor_name=actor_name,
        at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def add_request_txn(
    session: AsyncSession,
    rec: Recipient,
    kind: str,
    note: str,
    *,
    actor_login: str = "",
    actor_name: str,
) -> None:
    """Ask a recipient to accept a revoke (1), update (2) or replace (3): the request waits for
    its 15/16 and stands on the timeline (13) without moving the handling status."""
    rec.pending_request = kind
    await add_event_txn(
        session,
        rec,
        StatusCode.REQUEST.value,
        note=note,
        actor_login=actor_login,
        actor_name=actor_name,
        moves_status=False,
    )


async def add_recipient_txn(
    session: AsyncSession,
    document_id: int,
    agency_id: int | None,
    agency_code: str,
    status: str,
    at: datetime,
    *,
    actor_name: str,
    note: str = "",
) -> Recipient:
    """A new recipient of a document with its first step (01 arrived, or 00 pending for an
    agency on another server) already on its timeline."""
    rec = Recipient(
        document_id=document_id,
        agency_id=agency_id,
        agency_code=agency_code,
        status=status,
        received_at=at,
        updated_at=at,
    )
    session.add(rec)
    await session.flush()
    await add_event_txn(session, rec, status, note=note, actor_name=actor_name, at=at)
    return rec


async def latest_event_at_txn(session: AsyncSession, recipient_id: int) -> datetime | None:
    """When the recipient's last timeline step happened (None before any)."""
    latest: datetime | None = await session.scalar(
        select(StatusEvent.at)
        .where(StatusEvent.recipient_id == recipient_id)
        .order_by(StatusEvent.at.desc())
        .limit(1)
    )
    return latest


async def received_document_txn(
    session: AsyncSession, peer: str, origin_ref: str
) -> Document | None:
    """Our copy of the document ``peer`` knows as ``origin_ref`` (None before it arrived)."""
    found: Document | None = await session.scalar(
        select(Document).where(Document.origin_peer == peer, Document.origin_ref == origin_ref)
    )
    return found


async def next_incoming_number_txn(session: AsyncSession, agency_code: str, year: int) -> int:
    """The next number of the agency's incoming register for ``year`` (số đến), without gaps.

    The counter row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions are
    already serialised) so two clerks registering at once get consecutive numbers.
    """
    await session.execute(
        _insert_ignore(
            session, RegisterCounter, {"agency_code": agency_code, "year": year, "last_number": 0}
        )
    )
    counter = await session.scalar(
        select(RegisterCounter)
        .where(RegisterCounter.agency_code == agency_code, RegisterCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert counter is not None
    counter.last_number += 1
    await session.flush()
    return counter.last_number


async def user_of_agency_txn(session: AsyncSession, login: str, agency_id: int) -> User | None:
    user: User | None = await session.scalar(
        select(User).where(
            User.login == login.strip().lower(), User.agency_id == agency_id, User.is_active
        )
    )
    return user


async def user_names_txn(session: AsyncSession, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(User.id, User.login, User.full_name).where(User.id.in_(wanted))
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def _text_filter(
    f: Filters, by_agency: Callable[[list[str]], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """``q`` in the number, notation or subject (by the search fold of :mod:`server.search`:
    diacritics, tone placement, case and ``đ``/``d`` do not matter), or naming the other party (by any of its
    names: ``by_agency`` of the codes in ``f.q_codes``)."""
    if not fold(f.q):
        return true()
    return or_(
        like_folded(Document.search_folded, f.q),
        by_agency(sorted(f.q_codes)) if f.q_codes else false(),
    )


def _sent_by(codes: list[str]) -> ColumnElement[bool]:
    return Document.sender_code.in_(codes)


def _sent_to(codes: list[str]) -> ColumnElement[bool]:
    return Document.id.in_(select(Recipient.document_id).where(Recipient.agency_code.in_(codes)))


def _inbox_visibility(p: Principal) -> ColumnElement[bool]:
    if p.has(*DESK_ROLES):
        return true()
    assigned = Recipient.assignee_id == p.user_id
    if p.has(Role.OFFICIAL):
        return or_(assigned, Document.confidentiality == 0)
    return assigned


async def inbox_txn(
    session: AsyncSession, p: Principal, f: Filters
) -> list[tuple[Recipient, Document]]:
    """The caller's agency's received documents the caller may see, newest first."""
    conds: list[ColumnElement[bool]] = [
        Recipient.agency_code == p.agency_code,
        _inbox_visibility(p),
        _text_filter(f, _sent_by),
    ]
    if f.status:
        conds.append(Recipient.status == f.status)
    if f.agency:
        conds.append(_sent_by(sorted(f.agency_codes or {f.agency})))
    if f.date_from:
        conds.append(Document.promulgation_date >= f.date_from)
    if f.date_to:
        conds.append(Document.promulgation_date <= f.date_to)
    rows = await session.execute(
        select(Recipient, Document)
        .join(Document, Document.id == Recipient.document_id)
        .where(and_(*conds))
        .order_by(Recipient.received_at.desc(), Recipient.id.desc())
        .limit(f.limit)
        .offset(f.offset)
    )
    return [(r[0], r[1]) for r in rows]


async def outbox_txn(session: AsyncSession, p: Principal, f: Filters) -> list[Document]:
    """Documents the caller's agency sent that the caller may see, newest first."""
    if p.has(*DESK_ROLES):
        who: ColumnElement[bool] = true()
    else:
        who = Document.created_by == p.user_id if p.user_id else false()
    conds: list[ColumnElement[bool]] = [
        Document.sender_code == p.agency_code,
        Document.sender_agency_id == p.agency_id,
        who,
        _text_filter(f, _sent_to),
    ]
    if f.status or f.agency:
        sub = select(Recipient.document_id)
        if f.status:
            sub = sub.where(Recipient.status == f.status)
        if f.agency:
            sub = sub.where(Recipient.agency_code.in_(sorted(f.agency_codes or {f.agency})))
        conds.append(Document.id.in_(sub))
    if f.date_from:
        conds.append(Document.promulgation_date >= f.date_from)
    if f.date_to:
        conds.append(Document.promulgation_date <= f.date_to)
    rows = await session.scalars(
        select(Document)
        .where(and_(*conds))
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(f.limit)
        .offset(f.offset)
    )
    return list(rows)


async def recipients_of_docs_txn(
    session: AsyncSession, doc_ids: Sequence[int]
) -> dict[int, list[Recipient]]:
    out: dict[int, list[Recipient]] = {}
    if not doc_ids:
        return out
    rows = await session.scalars(
        select(Recipient).where(Recipient.document_id.in_(list(doc_ids))).order_by(Recipient.id)
    )
    for rec in rows:
        out.setdefault(rec.document_id, []).append(rec)
    return out


async def replacements_txn(session: AsyncSession, document_id: int) -> list[str]:
    """Public ids of the documents that replace this one, oldest first."""
    rows = await session.scalars(
        select(Document.public_id).where(Document.replaces_id == document_id).order_by(Document.id)
    )
    return list(rows)


async def public_id_of_txn(session: AsyncSession, document_id: int) -> str | None:
    found: str | None = await session.scalar(
        select(Document.public_id).where(Document.id == document_id)
    )
    return found
