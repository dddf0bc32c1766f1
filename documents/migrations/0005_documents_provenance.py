"""documents: unverified metadata of manual imports; parties and salts of message-log entries

Revision ID: 0005_documents_provenance
Revises: 0004_documents_drafts
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_documents_provenance"
down_revision: str | Sequence[str] | None = "0004_documents_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_documents = sa.table(
    "documents",
    sa.column("metadata_verified", sa.Boolean()),
    sa.column("sender_agency_id", sa.Integer()),
    sa.column("origin_peer", sa.String()),
)
_log = sa.table(
    "doc_message_log",
    sa.column("seq", sa.Integer()),
    sa.column("direction", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("peer", sa.String()),
    sa.column("agencies", sa.Text()),
    sa.column("salt", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("metadata_verified", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("doc_message_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agencies", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("salt", sa.String(length=32), nullable=False, server_default="")
        )
    # documents imported by hand before this revision: neither sent here nor from a peer
    op.execute(
        _documents.update()
        .where(_documents.c.sender_agency_id.is_(None), _documents.c.origin_peer.is_(None))
        .values(metadata_verified=sa.false())
    )
    # a local document message concerns the recipient it was logged for; other old entries
    # name no party and are shown to recipients as commitments only
    op.execute(
        _log.update()
        .where(_log.c.direction == "local", _log.c.kind == "document")
        .values(agencies=_log.c.peer)
    )
    bind = op.get_bind()
    seqs = [row[0] for row in bind.execute(sa.select(_log.c.seq))]
    for start in range(0, len(seqs), 1000):
        bind.execute(
            _log.update().where(_log.c.seq == sa.bindparam("s")).values(salt=sa.bindparam("v")),
            [{"s": seq, "v": secrets.token_hex(16)} for seq in seqs[start : start + 1000]],
        )


def downgrade() -> None:
    with op.batch_alter_table("doc_message_log", schema=None) as batch_op:
        batch_op.drop_column("salt")
        batch_op.drop_column("agencies")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("metadata_verified")
