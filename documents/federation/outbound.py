"""Delivering outbox messages to peers, with retries.

A sender marks a message delivered only with a receipt that verifies against the peer's pinned
seal and covers the digest of exactly the bytes it sent; anything else is retried with backoff,
across restarts (the outbox is a table).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from documents import repo
from documents.federation.messages import message_body
from documents.federation.receipts import verify_receipt
from documents.federation.runtime import PATH, Federation
from documents.models import Receipt
from documents.msglog import append_log_txn
from documents.outbox import Claimed, any_due_txn, claim_due_txn, failed_txn, mark_delivered_txn
from documents.peers import Peer
from documents.services import Events, Services
from documents.statuses import StatusCode
from server.errors import LienThongError
from server.realtime.rules import agency_channel

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The peer answered, but not with a receipt for this message."""


_RETRIED = (aiohttp.ClientError, TimeoutError, OSError, ValueError, LienThongError, DeliveryFailed)
"""Failures a later attempt may not meet: the network, the peer's answer, a receipt that does
not verify, a document or file missing here. Anything else is a bug: kept on the row too, and
raised."""


@dataclass(frozen=True, slots=True)
class _Sent:
    ref: str
    digest: str
    receipt: bytes


async def deliver(svc: Services, fed: Federation, msg: Claimed) -> bool:
    """Send one message; True when a good receipt came back and was recorded."""
    peer = fed.config.peer_named(msg.peer)
    if peer is None or fed.session is None:
        await _failed(svc, fed, msg, f"unknown peer {msg.peer}")
        return False
    try:
        sent = await _post(svc, fed, fed.session, peer, msg)
    except _RETRIED as exc:  # retried with backoff; the reason is kept on the row
        reason = f"{type(exc).__name__}: {exc}"
        log.info("delivery of %s to %s failed: %s", msg.message_id, msg.peer, reason)
        await _failed(svc, fed, msg, reason)
        return False
    except Exception as exc:
        await _failed(svc, fed, msg, f"{type(exc).__name__}: {exc}")
        raise
    events: Events = []

    async def record(session: AsyncSession) -> None:
        await _record_txn(session, peer, msg, sent, events)

    await svc.db.write("outbox_delivered", record)
    await svc.publish(events)
    return True


async def _failed(svc: Services, fed: Federation, msg: Claimed, reason: str) -> None:
    await svc.db.write(
        "outbox_failed", lambda s: failed_txn(s, msg.id, reason, fed.config.max_backoff)
    )


async def _post(
    svc: Services, fed: Federation, http: aiohttp.ClientSession, peer: Peer, msg: Claimed
) -> _Sent:
    """POST the message to the peer; its receipt, verified against the peer's pinned seal."""
    body, ref = await message_body(svc, fed.config.server_id, msg.kind, msg.payload)
    digest = hashlib.sha256(body).hexdigest()
    headers = {
        "Authorization": f"Bearer {peer.token}",
        "Content-Type": "application/xml",
        "X-LT-Message-Id": msg.message_id,
        "X-LT-Kind": msg.kind,
        "X-LT-Ref": ref,
        "X-LT-From": fed.config.server_id,
    }
    if msg.kind == "request" and msg.payload.get("new_ref"):
        headers["X-LT-New-Ref"] = str(msg.payload["new_ref"])  # the replacement, on our side
    if msg.payload.get("answers"):
        # which request a 15/16 answers (revoke, update, replace): requests may cross
        headers["X-LT-Answers"] = str(msg.payload["answers"])
    async with http.post(
        peer.url + PATH, data=body, headers=headers, ssl=fed.client_ssl(peer)
    ) as resp:
        answer = await resp.json(content_type=None)
        if resp.status != 200:
            raise DeliveryFailed(f"HTTP {resp.status}: {str(answer)[:500]}")
    receipt = _receipt_of(answer, msg.message_id)
    verify_receipt(receipt, digest, peer.seal_cert)  # only the addressed peer's seal counts
    return _Sent(ref, digest, receipt)


def _receipt_of(answer: Any, message_id: str) -> bytes:
    """The receipt in the peer's answer, which must be about ``message_id``."""
    if not isinstance(answer, dict):
        raise DeliveryFailed(f"the answer is not a JSON object: {str(answer)[:200]}")
    if answer.get("message_id") != message_id:
        raise DeliveryFailed(f"the receipt is for message {answer.get('message_id')!r}")
    receipt = answer.get("receipt")
    if not isinstance(receipt, str):
        raise DeliveryFailed("the answer carries no receipt")
    try:
        return base64.b64decode(receipt)
    except binascii.Error as exc:
        raise DeliveryFailed(f"the receipt is not base64: {exc}") from None


async def _record_txn(
    session: AsyncSession, peer: Peer, msg: Claimed, sent: _Sent, events: Events
) -> None:
    """Mark the message delivered with its receipt, in the log and on the timelines; nothing
    when a concurrent delivery (an expired lease) already did."""
    if not await mark_delivered_txn(session, msg.id):
        return
    local = str(msg.payload.get("local") or sent.ref)  # our copy's id (statuses refer to theirs)
    session.add(
        Receipt(
            message_id=msg.message_id,
            direction="out",
            document_public_id=local,
            peer=peer.name,
            kind=msg.kind,
            digest=sent.digest,
            cms=sent.receipt,
        )
    )
    await append_log_txn(
        session,
        direction="out",
        kind=msg.kind,
        message_id=msg.message_id,
        document_public_id=local,
        digest=sent.digest,
        peer=peer.name,
        agencies=msg.payload.get("to") or [str(msg.payload.get("agency", ""))],
    )
    if msg.kind != "document":
        return
    for rec, sender_code in await repo.recipients_by_public_id_txn(session, sent.ref):
        if rec.agency_code in msg.payload["to"] and rec.status == StatusCode.PENDING:
            await repo.add_event_txn(
                session,
                rec,
                StatusCode.ARRIVED.value,
                note=f"Biên nhận có chữ ký số của máy chủ {peer.name}",
                actor_name=peer.name,
            )
            data = {"id": sent.ref, "agency": rec.agency_code, "status": "01"}
            events.append((agency_channel(sender_code), "document.status", data))


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
    """Deliver forever: at once when woken by a commit, else every ``poll_seconds``.

    The worker is the top of a background task: an error it let through would end the task
    unseen and stop every delivery, so each failed pass is logged with its traceback and the
    next one starts (a database hiccup, or a bug in one message, which is also kept on its row
    and backed off by :func:`deliver`).
    """
    while True:
        fed.wake_event.clear()
        try:
            delivered = await deliver_due(svc, fed)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox pass failed")
            delivered = 0
        if delivered:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fed.wake_event.wait(), fed.config.poll_seconds)
