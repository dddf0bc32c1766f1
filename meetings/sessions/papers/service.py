"""What papers do: upload (checked, rewritten), replace, withdraw, read, mark, annotate.

Files live under ``<files_dir>/papers/<sha256>.pdf`` (content-addressed, written once).  A reader of
a confidential paper never gets those bytes: they get a copy with their name, agency and the time
burnt into every page, made once per reader and version for reading and afresh for each download.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.papers import pdf, repo
from meetings.sessions.papers.errors import DownloadForbidden, PaperNotFound
from meetings.sessions.papers.models import Paper, PaperVersion
from meetings.sessions.papers.notes import check_annotation, check_page, refuse_audience
from meetings.sessions.repo import get_item_txn
from meetings.sessions.service import actor, channel, guard_txn
from server.audit.log import append_txn
from server.auth.principal import Principal
from server.db import Database
from server.files import write_atomic
from server.http.keys import CONFIG_KEY, DB_KEY
from server.realtime import Hub, user_channel
from signing.errors import SigningError
from signing.trust import TrustStore
from signing.validate import Verifier

VN_TIME = timezone(timedelta(hours=7))


@dataclass(frozen=True, slots=True)
class NewPaper:
    """A paper to upload, as the secretariat described it (the file comes beside it)."""

    item_id: int
    title: str
    filename: str
    confidential: bool = False
    readers: list[str] = field(default_factory=list)
    """Logins who may read a confidential paper (the secretariat always may)."""
    allow_download: bool = True
    allow_print: bool = True


@dataclass(frozen=True, slots=True)
class PaperFile:
    """What to send for a read or a download."""

    path: Path
    filename: str
    etag: str
    confidential: bool = False
    """Served ``no-store``: kept by no cache, the browser's and the offline worker's included."""


class PapersService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._db: Database | None = None
        self.root = Path(".")
        self.trust_dir = Path("trust")
        self.verify_online = True
        self._locks: dict[str, asyncio.Lock] = {}

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        self._db = app[DB_KEY]
        self.root = app[CONFIG_KEY].files_dir / "papers"
        self.trust_dir = app[CONFIG_KEY].trust_dir
        (self.root / "marked").mkdir(parents=True, exist_ok=True)
        yield

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("PapersService used before the app started")
        return self._db

    def _stored(self, sha256: str) -> Path:
        return self.root / f"{sha256}.pdf"

    async def _signature(self, checked: pdf.CheckedPdf) -> tuple[str, str]:
        """For a signed upload, what ``signing`` says of its signatures (shown on the tablet)."""
        if not checked.signed:
            return "none", ""
        roots = await asyncio.to_thread(TrustStore(self.trust_dir).certificates)
        try:
            async with Verifier(roots, online=self.verify_online) as verifier:
                report = await verifier.verify(checked.data)
        except SigningError as exc:
            return "invalid", exc.detail_vi
        return ("valid" if report.ok else "invalid"), report.summary_vi

    async def _store(self, checked: pdf.CheckedPdf) -> None:
        path = self._stored(checked.sha256)
        if not path.exists():
            await asyncio.get_running_loop().run_in_executor(
                None, _write_atomic, path, checked.data
            )

    # -- upload, replace, withdraw ---------------------------------------------------------------

    async def upload(
        self, p: Principal, session_id: int, new: NewPaper, data: bytes
    ) -> dict[str, Any]:
        """Check the PDF, keep it (rewritten for fast reading unless signed), and list it."""

        async def check(session: AsyncSession) -> None:
            await guard_txn(session, session_id, p, secretariat=True)
            await get_item_txn(session, session_id, new.item_id)

        await self.db.read("paper_check", check)
        checked = await asyncio.get_running_loop().run_in_executor(
            None, pdf.check_and_prepare, data
        )
        await self._store(checked)
        signature = await self._signature(checked)

        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            paper = await repo.create_paper_txn(
                session,
                session_id=session_id,
                item_id=new.item_id,
                title=new.title,
                confidential=new.confidential,
                allow_download=new.allow_download,
                allow_print=new.allow_print,
                created_by=p.user_id,
            )
            version = await repo.add_version_txn(
                session,
                paper,
                checked,
                filename=new.filename,
                note="",
                by=p.user_id,
                signature=signature,
            )
            if new.confidential:
                await repo.set_readers_txn(session, paper.id, new.readers)
            details = {"sha256": checked.sha256, "pages": checked.pages, "title": new.title}
            await append_txn(
                session, "paper.upload", target=f"paper:{paper.id}", details=details, **actor(p)
            )
            return repo.paper_json(paper, version)

        data_out = await self.db.write("paper_upload", run)
        await self._announce(session_id, "paper.added", data_out)
        return data_out

    async def replace(
        self, p: Principal, session_id: int, paper_id: int, data: bytes, filename: str, note: str
    ) -> dict[str, Any]:
        checked = await asyncio.get_running_loop().run_in_executor(
            None, pdf.check_and_prepare, data
        )
        signature = await self._signature(checked)

        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            paper = await repo.get_paper_txn(session, session_id, paper_id, p.user_id, desk=True)
            version = await repo.add_version_txn(
                session,
                paper,
                checked,
                filename=filename,
                note=note,
                by=p.user_id,
                signature=signature,
            )
            await repo.set_paper_status_txn(session, paper, "active")
            await append_txn(
                session,
                "paper.replace",
                actor=p.login,
                actor_user_id=p.user_id,
                target=f"paper:{paper.id}",
                details={"version": version.number, "sha256": checked.sha256, "note": note},
            )
            return repo.paper_json(paper, version)

        await self._store(checked)
        data_out = await self.db.write("paper_replace", run)
        await self._announce(session_id, "paper.updated", data_out)
        return data_out

    async def withdraw(self, p: Principal, session_id: int, paper_id: int) -> None:
        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            paper = await repo.get_paper_txn(session, session_id, paper_id, p.user_id, desk=True)
            await repo.set_paper_status_txn(session, paper, "withdrawn")
            await append_txn(
                session,
                "paper.withdraw",
                actor=p.login,
                actor_user_id=p.user_id,
                target=f"paper:{paper.id}",
            )
            return {"id": paper.id, "item_id": paper.item_id, "status": "withdrawn"}

        data_out = await self.db.write("paper_withdraw", run)
        await self._announce(session_id, "paper.withdrawn", data_out)

    async def _announce(self, session_id: int, type: str, paper: dict[str, Any]) -> None:
        # Only ids go to the whole session: a confidential paper's title is for its readers.
        await self.hub.publish(
            channel(session_id),
            type,
            {"paper_id": paper["id"], "item_id": paper["item_id"], "status": paper["status"]},
        )

    # -- reading ---------------------------------------------------------------------------------

    async def papers(self, p: Principal, session_id: int) -> list[dict[str, Any]]:
        async def run(session: AsyncSession) -> list[dict[str, Any]]:
            _cs, role = await guard_txn(session, session_id, p)
            return await repo.papers_txn(session, session_id, p.user_id, desk=_desk(role))

        return await self.db.read("paper_list", run)

    async def detail(self, p: Principal, session_id: int, paper_id: int) -> dict[str, Any]:
        async def run(session: AsyncSession) -> dict[str, Any]:
            _cs, role = await guard_txn(session, session_id, p)
            paper = await repo.get_paper_txn(
                session, session_id, paper_id, p.user_id, desk=_desk(role)
            )
            version = await repo.version_txn(session, paper, None)
            await repo.mark_seen_txn(session, paper, p.user_id)
            return {
                **repo.paper_json(paper, version),
                "versions": await repo.versions_txn(session, paper.id),
                "reader": await _reader_line(session, p),
                "can_download": paper.allow_download or _desk(role),
                "can_print": paper.allow_print or _desk(role),
            }

        return await self.db.write("paper_detail", run)

    async def search(
        self, p: Principal, session_id: int, paper_id: int, query: str
    ) -> list[dict[str, Any]]:
        async def run(session: AsyncSession) -> list[dict[str, Any]]:
            _cs, role = await guard_txn(session, session_id, p)
            paper = await repo.get_paper_txn(
                session, session_id, paper_id, p.user_id, desk=_desk(role)
            )
            version = await repo.version_txn(session, paper, None)
            return await repo.search_txn(session, version.id, query)

        return await self.db.read("paper_search", run)

    async def search_session(
        self, p: Principal, session_id: int, query: str
    ) -> list[dict[str, Any]]:
        async def run(session: AsyncSession) -> list[dict[str, Any]]:
            _cs, role = await guard_txn(session, session_id, p)
            return await repo.search_session_txn(
                session, session_id, p.user_id, query, desk=_desk(role)
            )

        return await self.db.read("paper_search_session", run)

    async def file(
        self,
        p: Principal,
        session_id: int,
        paper_id: int,
        number: int | None,
        *,
        download: bool,
    ) -> tuple[PaperFile | None, bytes | None]:
        """The file to read (a path) or, for a confidential download, freshly marked bytes."""

        async def run(session: AsyncSession) -> tuple[Paper, PaperVersion, list[str], bool]:
            _cs, role = await guard_txn(session, session_id, p)
            desk = _desk(role)
            paper = await repo.get_paper_txn(session, session_id, paper_id, p.user_id, desk=desk)
            version = await repo.version_txn(session, paper, number)
            if download and not (paper.allow_download or desk):
                raise DownloadForbidden()
            lines = await _reader_line(session, p) if paper.confidential else {}
            if paper.confidential and download:
                await append_txn(
                    session,
                    "paper.download",
                    actor=p.login,
                    actor_user_id=p.user_id,
                    target=f"paper:{paper.id}",
                    details={"version": version.number},
                )
            reader = [lines.get("name", ""), lines.get("agency", "")]
            return paper, version, reader, desk

        paper, version, reader, _desk_role = await self.db.write("paper_file", run)
        source = self._stored(version.sha256)
        if not source.exists():
            raise PaperNotFound()
        name = version.filename or f"paper-{paper.id}.pdf"
        if not paper.confidential:
            return PaperFile(source, name, version.sha256), None
        stamp = datetime.now(UTC).astimezone(VN_TIME).strftime("%d/%m/%Y %H:%M")
        lines = [reader[0], reader[1], f"Tài liệu mật · {stamp}"]
        loop = asyncio.get_running_loop()
        if download:
            return None, await loop.run_in_executor(None, pdf.mark_pages, source, lines)
        marked = self.root / "marked" / f"{version.sha256}-{p.user_id}.pdf"
        lock = self._locks.setdefault(str(marked), asyncio.Lock())
        async with lock:
            if not marked.exists():
                data = await loop.run_in_executor(None, pdf.mark_pages, source, lines)
                await loop.run_in_executor(None, _write_atomic, marked, data)
        return PaperFile(marked, name, f"{version.sha256}-{p.user_id}", confidential=True), None

    # -- annotations -----------------------------------------------------------------------------

    async def annotations(self, p: Principal, session_id: int, paper_id: int) -> list[Any]:
        async def run(session: AsyncSession) -> list[Any]:
            _cs, role = await guard_txn(session, session_id, p)
            await repo.get_paper_txn(session, session_id, paper_id, p.user_id, desk=_desk(role))
            return await repo.annotations_txn(session, paper_id, p.user_id)

        return await self.db.read("annotation_list", run)

    async def save_annotation(
        self,
        p: Principal,
        session_id: int,
        paper_id: int,
        body: dict[str, Any],
        annotation_id: str | None = None,
    ) -> dict[str, Any]:
        page, audience_logins = check_annotation(body)

        async def run(session: AsyncSession) -> tuple[dict[str, Any], set[int]]:
            _cs, role = await guard_txn(session, session_id, p)
            paper = await repo.get_paper_txn(
                session, session_id, paper_id, p.user_id, desk=_desk(role)
            )
            check_page(page, await repo.pages_txn(session, paper.id))
            ids = await repo.user_ids_txn(session, audience_logins)
            readers = await repo.readers_among_txn(session, paper, list(ids.values()))
            refused = [login for login in audience_logins if ids.get(login) not in readers]
            if refused:
                raise refuse_audience(refused)
            clean = {k: v for k, v in body.items() if not k.startswith("lt:") and k != "id"}
            clean.setdefault("@context", "http://www.w3.org/ns/anno.jsonld")
            clean["type"] = "Annotation"
            clean["creator"] = {"type": "Person", "name": p.full_name, "nickname": p.login}
            row = await repo.save_annotation_txn(
                session,
                paper_id=paper_id,
                user_id=p.user_id,
                page=page,
                body=clean,
                audience=sorted(readers),
                annotation_id=annotation_id,
            )
            # who gets the event is decided here, against the readers, in the write's transaction
            recipients = await repo.readers_among_txn(session, paper, [p.user_id, *readers])
            return repo.annotation_json(row), recipients

        saved, recipients = await self.db.write("annotation_save", run)
        await self._sync(saved, paper_id, recipients)
        return saved

    async def delete_annotation(self, p: Principal, session_id: int, annotation_id: str) -> None:
        async def run(session: AsyncSession) -> int:
            await guard_txn(session, session_id, p)
            return await repo.delete_annotation_txn(session, annotation_id, p.user_id)

        paper_id = await self.db.write("annotation_delete", run)
        await self.hub.publish(
            user_channel(p.user_id),
            "annotation.deleted",
            {"paper_id": paper_id, "id": f"urn:uuid:{annotation_id}"},
        )

    async def _sync(self, annotation: dict[str, Any], paper_id: int, recipients: set[int]) -> None:
        """The author's other devices, and the people it is shared with, get it at once: only
        those who may read the paper (``recipients``), never the stored audience unchecked."""
        for uid in sorted(recipients):
            await self.hub.publish(
                user_channel(uid),
                "annotation.saved",
                {"paper_id": paper_id, "annotation": annotation},
            )


def _desk(role: str) -> bool:
    """The secretariat sees every paper of the session (it put them there); others as named."""
    return role == "secretariat"


async def _reader_line(session: AsyncSession, p: Principal) -> dict[str, str]:
    agency = await repo.agency_name_txn(session, p.agency_id)
    return {"name": p.full_name, "agency": agency or p.agency_code, "login": p.login}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
