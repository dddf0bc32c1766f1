"""SQL for papers, versions, page texts, readers, what was seen, and annotations (``*_txn``)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.models import Invitation
from meetings.sessions.papers.errors import PaperNotFound
from meetings.sessions.papers.models import (
    Annotation,
    Paper,
    PaperPage,
    PaperReader,
    PaperSeen,
    PaperVersion,
)
from meetings.sessions.papers.notes import dumps, loads_stored
from meetings.sessions.papers.pdf import CheckedPdf
from server.accounts.models import Agency, User
from server.db.base import utcnow
from server.search import find, like_folded

log = logging.getLogger(__name__)


async def create_paper_txn(
    session: AsyncSession,
    *,
    session_id: int,
    item_id: int,
    title: str,
    confidential: bool,
    allow_download: bool,
    allow_print: bool,
    created_by: int,
) -> Paper:
    row = Paper(
        session_id=session_id,
        item_id=item_id,
        title=title,
        confidential=confidential,
        allow_download=allow_download,
        allow_print=allow_print,
        created_by=created_by,
    )
    session.add(row)
    await session.flush()
    return row


async def add_version_txn(
    session: AsyncSession,
    paper: Paper,
    pdf: CheckedPdf,
    *,
    filename: str,
    note: str,
    by: int,
    signature: tuple[str, str] = ("none", ""),
) -> PaperVersion:
    """A new current version of ``paper``; earlier ones stay as its history."""
    paper.version += 1
    paper.updated_at = utcnow()
    version = PaperVersion(
        paper_id=paper.id,
        number=paper.version,
        filename=filename,
        note=note,
        pages=pdf.pages,
        size=len(pdf.data),
        sha256=pdf.sha256,
        original_sha256=pdf.original_sha256,
        signature=signature[0],
        signature_summary=signature[1],
        uploaded_by=by,
    )
    session.add(version)
    await session.flush()
    session.add_all(
        PaperPage(version_id=version.id, page=n, text=text)
        for n, text in enumerate(pdf.texts, start=1)
    )
    await session.flush()
    return version


async def set_paper_status_txn(session: AsyncSession, paper: Paper, status: str) -> None:
    """``active`` (listed) or ``withdrawn`` (a change: :func:`papers_version_txn` moves)."""
    paper.status, paper.updated_at = status, utcnow()
    await session.flush()


async def agency_name_txn(session: AsyncSession, agency_id: int) -> str | None:
    return await session.scalar(select(Agency.name).where(Agency.id == agency_id))


async def set_readers_txn(session: AsyncSession, paper_id: int, logins: Sequence[str]) -> list[int]:
    """Name the people who may read a confidential paper (replacing the list)."""
    ids = list(await session.scalars(select(User.id).where(User.login.in_(list(logins)))))
    await session.execute(delete(PaperReader).where(PaperReader.paper_id == paper_id))
    session.add_all(PaperReader(paper_id=paper_id, user_id=i) for i in ids)
    await session.flush()
    return ids


def _visible(user_id: int, desk: bool) -> Any:
    """Papers the person may see: every non-confidential one, or confidential ones naming them."""
    if desk:
        return True
    named = select(PaperReader.paper_id).where(PaperReader.user_id == user_id)
    return or_(Paper.confidential.is_(False), Paper.id.in_(named))


async def get_paper_txn(
    session: AsyncSession, session_id: int, paper_id: int, user_id: int, *, desk: bool
) -> Paper:
    row = (
        await session.scalars(
            select(Paper).where(
                Paper.id == paper_id, Paper.session_id == session_id, _visible(user_id, desk)
            )
        )
    ).first()
    if row is None:
        raise PaperNotFound()
    return row


async def papers_txn(
    session: AsyncSession, session_id: int, user_id: int, *, desk: bool
) -> list[dict[str, Any]]:
    """The session's papers the person may see, with what is new since they last looked."""
    rows = await session.execute(
        select(Paper, PaperVersion, PaperSeen.version)
        .join(
            PaperVersion,
            (PaperVersion.paper_id == Paper.id) & (PaperVersion.number == Paper.version),
        )
        .outerjoin(PaperSeen, (PaperSeen.paper_id == Paper.id) & (PaperSeen.user_id == user_id))
        .where(Paper.session_id == session_id, _visible(user_id, desk))
        .order_by(Paper.item_id, Paper.id)
    )
    return [
        {
            **paper_json(p, v),
            "seen_version": seen,
            "is_new": p.status == "active" and seen != p.version,
        }
        for p, v, seen in rows
    ]


def paper_json(p: Paper, v: PaperVersion) -> dict[str, Any]:
    return {
        "id": p.id,
        "session_id": p.session_id,
        "item_id": p.item_id,
        "title": p.title,
        "confidential": p.confidential,
        "allow_download": p.allow_download,
        "allow_print": p.allow_print,
        "status": p.status,
        "version": p.version,
        "pages": v.pages,
        "size": v.size,
        "filename": v.filename,
        "sha256": v.sha256,
        "signature": {"status": v.signature, "summary": v.signature_summary},
        "updated_at": p.updated_at.isoformat(),
    }


async def version_txn(session: AsyncSession, paper: Paper, number: int | None) -> PaperVersion:
    row = (
        await session.scalars(
            select(PaperVersion).where(
                PaperVersion.paper_id == paper.id,
                PaperVersion.number == (number or paper.version),
            )
        )
    ).first()
    if row is None:
        raise PaperNotFound()
    return row


async def versions_txn(session: AsyncSession, paper_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(PaperVersion, User.full_name)
        .join(User, User.id == PaperVersion.uploaded_by)
        .where(PaperVersion.paper_id == paper_id)
        .order_by(PaperVersion.number.desc())
    )
    return [
        {
            "number": v.number,
            "filename": v.filename,
            "note": v.note,
            "pages": v.pages,
            "size": v.size,
            "sha256": v.sha256,
            "signature": {"status": v.signature, "summary": v.signature_summary},
            "uploaded_by": name,
            "uploaded_at": v.uploaded_at.isoformat(),
        }
        for v, name in rows
    ]


async def mark_seen_txn(session: AsyncSession, paper: Paper, user_id: int) -> None:
    row = await session.get(PaperSeen, (paper.id, user_id))
    if row is None:
        session.add(PaperSeen(paper_id=paper.id, user_id=user_id, version=paper.version))
    elif row.version != paper.version:
        row.version, row.at = paper.version, utcnow()
    await session.flush()


async def search_txn(session: AsyncSession, version_id: int, query: str) -> list[dict[str, Any]]:
    """Pages of a version whose text contains ``query`` by the search fold of
    :mod:`server.search` (diacritics, tone placement, case, ``đ``/``d`` do not matter), with a
    snippet of the text as written."""
    rows = await session.scalars(
        select(PaperPage)
        .where(PaperPage.version_id == version_id, like_folded(PaperPage.text_folded, query))
        .order_by(PaperPage.page)
    )
    hits = []
    for page in rows:
        snippet = _snippet(page.text, query)
        if snippet is not None:
            hits.append({"page": page.page, "snippet": snippet})
    return hits


def _snippet(text: str, query: str) -> str | None:
    """The first match of ``query`` in ``text`` with 40 characters either side; None if none."""
    hit = find(text, query)
    if hit is None:
        return None
    return text[max(0, hit[0] - 40) : hit[1] + 40]


async def search_session_txn(
    session: AsyncSession, session_id: int, user_id: int, query: str, *, desk: bool, limit: int = 50
) -> list[dict[str, Any]]:
    """Pages of the session's current papers (those the person may see) containing ``query``
    (by the search fold, as :func:`search_txn`)."""
    rows = await session.execute(
        select(Paper.id, Paper.title, PaperPage.page, PaperPage.text)
        .join(
            PaperVersion,
            (PaperVersion.paper_id == Paper.id) & (PaperVersion.number == Paper.version),
        )
        .join(PaperPage, PaperPage.version_id == PaperVersion.id)
        .where(Paper.session_id == session_id, Paper.status == "active", _visible(user_id, desk))
        .where(like_folded(PaperPage.text_folded, query))
        .order_by(Paper.id, PaperPage.page)
    )
    hits: list[dict[str, Any]] = []
    for paper_id, title, page, text in rows:
        snippet = _snippet(text, query)
        if snippet is not None:
            hits.append({"paper_id": paper_id, "title": title, "page": page, "snippet": snippet})
            if len(hits) >= limit:
                break
    return hits


# -- annotations -----------------------------------------------------------------------------


def annotation_json(a: Annotation) -> dict[str, Any]:
    """The stored annotation as served; ``ValueError`` when its stored JSON is not strict JSON."""
    body: dict[str, Any] = loads_stored(a.body)
    body.update(
        {
            "id": f"urn:uuid:{a.id}",
            "created": a.created_at.isoformat(),
            "modified": a.updated_at.isoformat(),
            "lt:page": a.page,
            "lt:audience": loads_stored(a.audience),
            "lt:owner": a.user_id,
        }
    )
    return body


async def annotations_txn(
    session: AsyncSession, paper_id: int, user_id: int
) -> list[dict[str, Any]]:
    """The person's own annotations on the paper and those shared with them.

    A stored note that is not strict JSON (``NaN`` from before it was refused) is left out and
    logged: it must not make the list unreadable for everybody else."""
    rows = await session.scalars(
        select(Annotation)
        .where(Annotation.paper_id == paper_id, Annotation.deleted.is_(False))
        .order_by(Annotation.page, Annotation.created_at)
    )
    found = []
    for a in rows:
        try:
            if a.user_id != user_id and user_id not in loads_stored(a.audience):
                continue
            found.append(annotation_json(a))
        except (ValueError, TypeError):
            log.warning("annotation %s of paper %s is not valid JSON; left out", a.id, paper_id)
    return found


async def pages_txn(session: AsyncSession, paper_id: int) -> int:
    """The page count of the paper's longest version (a note may be on any version's page)."""
    pages = await session.scalar(
        select(func.max(PaperVersion.pages)).where(PaperVersion.paper_id == paper_id)
    )
    return int(pages or 0)


async def user_ids_txn(session: AsyncSession, logins: Sequence[str]) -> dict[str, int]:
    """Login -> user id, for the logins that exist."""
    if not logins:
        return {}
    rows = await session.execute(select(User.login, User.id).where(User.login.in_(list(logins))))
    return {login: uid for login, uid in rows}


async def readers_among_txn(
    session: AsyncSession, paper: Paper, user_ids: Sequence[int]
) -> set[int]:
    """Those of ``user_ids`` who may read ``paper``: invited to its session and, for a
    confidential paper, named on it or the session's secretariat (the rule of ``get_paper_txn``).
    A shared note goes to these people only."""
    if not user_ids:
        return set()
    rows = await session.execute(
        select(Invitation.user_id, Invitation.role).where(
            Invitation.session_id == paper.session_id, Invitation.user_id.in_(list(user_ids))
        )
    )
    invited = {uid: role for uid, role in rows}
    if not paper.confidential:
        return set(invited)
    named = set(
        await session.scalars(
            select(PaperReader.user_id).where(
                PaperReader.paper_id == paper.id, PaperReader.user_id.in_(list(invited))
            )
        )
    )
    return {uid for uid, role in invited.items() if role == "secretariat" or uid in named}


async def save_annotation_txn(
    session: AsyncSession,
    *,
    paper_id: int,
    user_id: int,
    page: int,
    body: dict[str, Any],
    audience: list[int],
    annotation_id: str | None = None,
) -> Annotation:
    if annotation_id is None:
        row = Annotation(
            id=str(uuid.uuid4()),
            paper_id=paper_id,
            user_id=user_id,
            page=page,
            body=dumps(body),
            audience=dumps(audience),
        )
        session.add(row)
    else:
        found = await session.get(Annotation, annotation_id)
        if found is None or found.user_id != user_id or found.deleted:
            raise PaperNotFound()
        row = found
        row.page, row.body, row.audience = (
            page,
            dumps(body),
            dumps(audience),
        )
        row.updated_at = utcnow()
    await session.flush()
    return row


async def delete_annotation_txn(session: AsyncSession, annotation_id: str, user_id: int) -> int:
    row = await session.get(Annotation, annotation_id)
    if row is None or row.user_id != user_id or row.deleted:
        raise PaperNotFound()
    row.deleted, row.updated_at = True, utcnow()
    await session.flush()
    return row.paper_id


async def count_txn(session: AsyncSession, session_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Paper).where(Paper.session_id == session_id)
        )
        or 0
    )


async def papers_version_txn(session: AsyncSession, session_id: int) -> str:
    """An opaque mark that changes whenever a paper of the session is added, replaced or
    withdrawn (count, newest id, latest change): a page holding the same mark need not fetch
    its paper list again.  A hash, so it tells no one how many papers there are."""
    row = (
        await session.execute(
            select(func.count(Paper.id), func.max(Paper.id), func.max(Paper.updated_at)).where(
                Paper.session_id == session_id
            )
        )
    ).one()
    latest = row[2].isoformat() if row[2] is not None else ""
    raw = f"{row[0]}:{row[1]}:{latest}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
