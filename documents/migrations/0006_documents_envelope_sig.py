"""documents: the verdict on an arriving edXML envelope's XML signature

Revision ID: 0006_documents_envelope_sig
Revises: 0005_documents_provenance
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_documents_envelope_sig"
down_revision: str | Sequence[str] | None = "0005_documents_provenance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("envelope_signature", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("envelope_signature")
