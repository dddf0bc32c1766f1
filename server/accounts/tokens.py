"""API tokens for machines: ``lt_`` + 32 random bytes, stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import ApiToken
from server.db.base import utcnow

PREFIX = "lt_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_token_txn(
    session: AsyncSession,
    user_id: int,
    *,
    name: str = "",
    expires_at: datetime | None = None,
    session_id: int | None = None,
) -> tuple[str, ApiToken]:
    """Make a token; the clear value is returned once and never stored.

    ``session_id`` is the login session the token is minted from (through the person's own
    request, or a token that session minted), None for machine tokens made by an administrator
    or the CLI: "log out everywhere" revokes the former, not the latter."""
    value = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=digest(value),
        prefix=value[:10],
        expires_at=expires_at,
        session_id=session_id,
    )
    session.add(row)
    await session.flush()
    return value, row


async def resolve_token_txn(session: AsyncSession, value: str) -> ApiToken | None:
    """The live token row for ``value``, or None when unknown, expired or revoked."""
    if not value.startswith(PREFIX):
        return None
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(value)))
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row


async def revoke_token_txn(
    session: AsyncSession, token_id: int, user_id: int | None = None
) -> bool:
    query = update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    result = await session.execute(query.values(revoked_at=utcnow()))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_session_minted_txn(
    session: AsyncSession, user_id: int, *, keep_session_id: int | None = None
) -> int:
    """Revoke every live API token of ``user_id`` that a login session minted; how many.

    Machine tokens made by an administrator or the CLI (no session id) are kept: they run
    servers and scripts, and a person logging out must not stop them.  ``keep_session_id``
    spares the tokens of one session (the one changing its own password)."""
    query = update(ApiToken).where(
        ApiToken.user_id == user_id,
        ApiToken.session_id.is_not(None),
        ApiToken.revoked_at.is_(None),
    )
    if keep_session_id is not None:
        query = query.where(ApiToken.session_id != keep_session_id)
    result = await session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def revoke_all_tokens_txn(session: AsyncSession, user_id: int) -> int:
    """Revoke every live API token of ``user_id``, machine tokens included (a disabled account
    keeps no way in); how many."""
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
