"""documents: the folded search column (Vietnamese-aware inbox and outbox search)

Revision ID: 0007_documents_search_folded
Revises: 0006_documents_envelope_sig

``documents.search_folded`` holds number, notation and subject by the search fold of
:mod:`server.search`, kept by the application on every write; this migration backfills the
documents written before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.search import folded_fields

revision: str = "0007_documents_search_folded"
down_revision: str | Sequence[str] | None = "0006_documents_envelope_sig"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_documents = sa.table(
    "documents",
    sa.column("id", sa.Integer),
    sa.column("number", sa.String),
    sa.column("notation", sa.String),
    sa.column("subject", sa.Text),
    sa.column("search_folded", sa.Text),
)
_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_folded", sa.Text(), nullable=False, server_default="")
        )
    bind = op.get_bind()
    last = 0
    while True:  # in batches: a register may hold many documents
        rows = bind.execute(
            sa.select(
                _documents.c.id, _documents.c.number, _documents.c.notation, _documents.c.subject
            )
            .where(_documents.c.id > last)
            .order_by(_documents.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            _documents.update()
            .where(_documents.c.id == sa.bindparam("i"))
            .values(search_folded=sa.bindparam("f")),
            [{"i": i, "f": folded_fields(n, no, s)} for i, n, no, s in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("search_folded")
