"""A message as it arrives from a peer, and the receipt that answers it: written once for every
kind of message.

Exactly-once effect: a receiver commits the message, its effects and the receipt it signed in one
transaction, keyed by the message id (unique); a copy that arrives again — a retry after a lost
answer, a duplicate on the wire, a sender restarted mid-batch — gets the stored receipt back and
changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from documents import exchange_repo
from documents.errors import BadField
from documents.models import Receipt
from documents.msglog import append_log_txn
from documents.peers import Peer
from server.errors import Forbidden

_MESSAGE_ID = re.compile(r"^[0-9a-f]{16,64}$")

Effect = Callable[[AsyncSession], Awaitable[tuple[str, list[str]]]]
"""A message's effect inside the receiving transaction: the id of the document it concerns
here and the agencies it was addressed to."""


@dataclass(frozen=True, slots=True)
class Arrival:
    """One message from a peer: its headers, the exact bytes and their digest."""

    message_id: str
    kind: str
    ref: str
    body: bytes
    digest: str
    answers: str | None = None
    new_ref: str | None = None
    """For a replacement request: the new document's id on the sender (``X-LT-New-Ref``)."""


def parse_arrival(headers: Any, body: bytes) -> Arrival:
    """The message in a peer's request; :class:`BadField` when a header is missing or bad."""
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
    new_ref = str(headers.get("X-LT-New-Ref", "")).strip()
    return Arrival(
        message_id,
        kind,
        ref,
        body,
        hashlib.sha256(body).hexdigest(),
        answers if answers in ("1", "2", "3") else None,
        new_ref if 0 < len(new_ref) <= 64 else None,
    )


async def stored_receipt_txn(session: AsyncSession, peer: Peer, message_id: str) -> Receipt | None:
    """Our receipt for a message ``peer`` delivered before (a copy gets it again).

    Bound to the peer: a message id another peer already used is refused, never answered with
    that peer's receipt (which would tell the caller of a document it may not know, and let it
    stand in for the real message)."""
    found = await exchange_repo.receipt_in_txn(session, message_id)
    if found is not None and found.peer != peer.name:
        raise Forbidden(
            f"Message id {message_id} was used by another server.",
            detail_vi="Mã thông điệp này đã được một máy chủ liên thông khác sử dụng.",
            code="documents.message_id_taken",
        )
    return found


def answer(receipt: Receipt) -> dict[str, Any]:
    """What the peer gets back: our signed receipt and the id of its document here."""
    return {
        "message_id": receipt.message_id,
        "digest": receipt.digest,
        "receipt": base64.b64encode(receipt.cms).decode("ascii"),
        "document": receipt.document_public_id,
    }


async def once_txn(
    session: AsyncSession, peer: Peer, arrival: Arrival, receipt: bytes, effect: Effect
) -> dict[str, Any]:
    """Apply ``effect`` once: a copy of a message already taken gets the stored receipt; a new
    one is applied, and its receipt and message-log entry written in the same transaction."""
    stored = await stored_receipt_txn(session, peer, arrival.message_id)
    if stored is not None:
        return answer(stored)
    public_id, agencies = await effect(session)
    row = Receipt(
        message_id=arrival.message_id,
        direction="in",
        document_public_id=public_id,
        peer=peer.name,
        kind=arrival.kind,
        digest=arrival.digest,
        cms=receipt,
    )
    session.add(row)
    await append_log_txn(
        session,
        direction="in",
        kind=arrival.kind,
        message_id=arrival.message_id,
        document_public_id=public_id,
        digest=arrival.digest,
        peer=peer.name,
        agencies=agencies,
    )
    await session.flush()
    return answer(row)
