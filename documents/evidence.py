"""Evidence bundles (hồ sơ chứng cứ): for one document, a ZIP with the signed PDF and
attachments, every message exchanged for it (the exact bytes), every signed receipt, the peers'
seal certificates, the timeline and the message-log entries; and the offline check of a bundle
(``lienthong verify-bundle``).

Each party gets its own bundle. The sender's agency is a party to every message of its document
and sees them all; a recipient agency sees in full only the messages that concern it (its copy
of the document, its statuses, requests addressed to it) with their receipts. Every other
message-log entry appears only as a salted commitment (:func:`documents.msglog.commitment`), so a
recipient can neither read another agency's handling nor guess it back from a digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem
from sqlalchemy.ext.asyncio import AsyncSession

from documents import exchange_repo, interop
from documents.errors import DocumentNotFound
from documents.federation.messages import message_body
from documents.federation.receipts import ReceiptError, verify_receipt
from documents.models import MessageLogEntry, OutboxMessage, Receipt
from documents.msglog import commitment, entry_hash
from documents.services import Services
from documents.views import document_view_txn
from server.auth.principal import Principal
from signing.trust import load_certs

FORMAT = "lienthong-evidence/2"
FORMATS = ("lienthong-evidence/1", FORMAT)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_Records = tuple[dict[str, Any], list[Receipt], dict[str, OutboxMessage], list[MessageLogEntry]]


async def _records_txn(session: AsyncSession, p: Principal, public_id: str) -> _Records:
    """The caller's view of the document (404 unless visible), its receipts, the messages we
    queued for them and its message-log entries."""
    view = await document_view_txn(session, p, public_id)
    receipts = await exchange_repo.receipts_of_document_txn(session, public_id)
    outbox = await exchange_repo.outbox_by_message_txn(session, [r.message_id for r in receipts])
    log = await exchange_repo.log_of_document_txn(session, public_id)
    return view, receipts, outbox, log


class _Bundle:
    """The ZIP being written and its manifest, each file listed with its digest."""

    def __init__(self, zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
        self.zf = zf
        self.manifest = manifest

    def put(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data)
        self.manifest["files"][name] = _sha(data)

    def put_once(self, name: str, data: bytes) -> None:
        if name not in self.manifest["files"]:
            self.put(name, data)


async def build_bundle(svc: Services, p: Principal, public_id: str) -> bytes:
    """The evidence ZIP of a document the caller may see (404 otherwise)."""

    async def txn(session: AsyncSession) -> _Records:
        return await _records_txn(session, p, public_id)

    view, receipts, outbox, log = await svc.db.read("evidence", txn)
    party = None if view["role"] == "sender" else p.agency_code
    own = {e.message_id for e in log if party is None or party in e.agencies.split()}
    receipts = [r for r in receipts if party is None or r.message_id in own]
    out = io.BytesIO()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "party": {"agency_code": p.agency_code, "role": view["role"]},
        "document": {k: v for k, v in view.items() if k != "recipients"},
        "timeline": view["recipients"],
        "files": {},
        "receipts": [],
        "message_log": [_log_entry(e) if e.message_id in own else _committed(e) for e in log],
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        bundle = _Bundle(zf, manifest)
        bundle.put(f"files/{view['main']['name']}", await svc.store.get(view["main"]["sha256"]))
        for att in view["attachments"]:
            bundle.put(f"files/attachments/{att['name']}", await svc.store.get(att["sha256"]))
        bundle.put("envelope.edxml", await interop.document_message(svc, public_id))
        for rec in receipts:
            manifest["receipts"].append(await _receipt_entry(svc, bundle, rec, outbox))
        zf.writestr(
            "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
        )
    return out.getvalue()


async def _receipt_entry(
    svc: Services, bundle: _Bundle, rec: Receipt, outbox: dict[str, OutboxMessage]
) -> dict[str, Any]:
    """One receipt in the bundle, with the exact message it covers and the seal that signed it."""
    entry: dict[str, Any] = {
        "message_id": rec.message_id,
        "direction": rec.direction,
        "peer": rec.peer,
        "kind": rec.kind,
        "digest": rec.digest,
        "receipt": f"receipts/{rec.message_id}.p7s",
        "message": None,
    }
    bundle.put(entry["receipt"], rec.cms)
    queued = outbox.get(rec.message_id)
    if queued is not None and queued.peer != rec.peer:
        queued = None  # another peer's message: never rebuilt under this receipt
    body: bytes | None = None
    if rec.direction == "out" and queued is not None:
        body = await _rebuild(svc, queued)
    elif rec.direction == "in" and await svc.store.exists(rec.digest):
        body = await svc.store.get(rec.digest)
    if body is not None and _sha(body) == rec.digest:
        entry["message"] = f"messages/{rec.message_id}.xml"
        bundle.put(entry["message"], body)
    peer = svc.federation.peer_named(rec.peer) if svc.federation else None
    if rec.direction == "out" and peer is not None:
        entry["seal_cert"] = f"peers/{peer.name}.pem"
        bundle.put_once(entry["seal_cert"], pem.armor("CERTIFICATE", peer.seal_cert.dump()))
    elif rec.direction == "in" and svc.seal_cert is not None:
        entry["seal_cert"] = "seal/this-server.pem"
        bundle.put_once(entry["seal_cert"], pem.armor("CERTIFICATE", svc.seal_cert.dump()))
    return entry


def _log_entry(e: MessageLogEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at.isoformat(),
        "direction": e.direction,
        "kind": e.kind,
        "message_id": e.message_id,
        "document_public_id": e.document_public_id,
        "peer": e.peer,
        "digest": e.digest,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def _committed(e: MessageLogEntry) -> dict[str, Any]:
    """Another party's entry: its place in the log and a salted commitment, nothing else."""
    return {"seq": e.seq, "commitment": commitment(e.salt, e.hash) if e.salt else None}


async def _rebuild(svc: Services, queued: OutboxMessage) -> bytes | None:
    """The exact bytes we sent for a queued message (None when its document is gone)."""
    server_id = svc.federation.server_id if svc.federation else ""
    try:
        body, _ref = await message_body(svc, server_id, queued.kind, json.loads(queued.payload))
    except DocumentNotFound:
        return None
    return body


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    what_vi: str


def verify_bundle(data: bytes, pinned: list[Path] | None = None) -> list[Check]:
    """Check every file against the manifest and every receipt against the message it covers.

    ``pinned``: seal certificates to trust (PEM); without them, the certificate in the bundle
    is used and its fingerprint reported so that a person can compare it with the peer's.
    """
    checks: list[Check] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(zf.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        return [Check(False, f"Không đọc được hồ sơ: {exc}")]
    if manifest.get("format") not in FORMATS:
        return [Check(False, "Không phải hồ sơ chứng cứ Liên Thông.")]
    names = set(zf.namelist())
    for name, digest in manifest["files"].items():
        ok = name in names and _sha(zf.read(name)) == digest
        checks.append(Check(ok, f"Tệp {name}: {'khớp' if ok else 'KHÔNG khớp'} SHA-256."))
    extra = names - set(manifest["files"]) - {"manifest.json"}
    if extra:
        checks.append(Check(False, f"Có tệp lạ ngoài danh mục: {', '.join(sorted(extra))}."))
    pinned_certs = [c for path in pinned or [] for c in load_certs(path.read_bytes(), str(path))]
    entries = manifest.get("message_log", [])
    checks += _log_checks(entries)
    logged = {(e["message_id"], e["digest"]) for e in entries if "message_id" in e}
    for entry in manifest["receipts"]:
        mid = entry["message_id"]
        if not entry.get("message") or not entry.get("seal_cert"):
            checks.append(
                Check(False, f"Biên nhận {mid}: thiếu thông điệp hoặc chứng thư con dấu.")
            )
            continue
        message = zf.read(entry["message"])
        bundled = load_certs(zf.read(entry["seal_cert"]), entry["seal_cert"])
        # our own receipts (for messages we received) carry our seal; the peer's are pinned
        certs = pinned_certs if pinned_certs and entry["direction"] == "out" else bundled
        result: Check | None = None
        for cert in certs:
            try:
                info = verify_receipt(zf.read(entry["receipt"]), _sha(message), cert)
            except ReceiptError:
                continue
            fp = hashlib.sha256(cert.dump()).hexdigest()[:16]
            result = Check(
                True,
                f"Biên nhận {mid} ({entry['kind']}, "
                f"{'gửi tới' if entry['direction'] == 'out' else 'nhận từ'} {entry['peer']}): "
                f"chữ ký hợp lệ, ký bởi {info.signer} (SHA-256 {fp}…), đúng thông điệp.",
            )
            break
        checks.append(
            result or Check(False, f"Biên nhận {mid}: chữ ký hoặc nội dung KHÔNG hợp lệ.")
        )
        in_log = (mid, _sha(message)) in logged
        checks.append(
            Check(in_log, f"Nhật ký truyền nhận {'có' if in_log else 'KHÔNG có'} thông điệp {mid}.")
        )
    return checks


def _log_checks(entries: list[dict[str, Any]]) -> list[Check]:
    """Each entry shown in full must hash as it did in the server's chain; the others are
    commitments, counted (they prove nothing offline until their salt and entry are shown)."""
    checks: list[Check] = []
    for e in entries:
        if "message_id" not in e or "document_public_id" not in e:
            continue  # a commitment, or a bundle of the first format (no document id)
        fields = [
            e["direction"],
            e["kind"],
            e["message_id"],
            e["document_public_id"],
            e["peer"],
            e["digest"],
        ]
        at = dt.datetime.fromisoformat(e["at"])
        ok = entry_hash(e["prev_hash"], e["seq"], at, fields) == e["hash"]
        checks.append(
            Check(ok, f"Nhật ký mục {e['seq']}: {'khớp' if ok else 'KHÔNG khớp'} chuỗi băm.")
        )
    hidden = sum(1 for e in entries if "commitment" in e)
    if hidden:
        checks.append(
            Check(
                True,
                f"Nhật ký: {hidden} mục của bên khác chỉ có cam kết (có muối), không kèm nội dung.",
            )
        )
    return checks
