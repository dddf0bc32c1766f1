"""Signed papers: a version uploaded with digital signatures keeps its bytes and its check.

Revision ID: 0004_sessions
Revises: 0003_sessions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_sessions"
down_revision: str | Sequence[str] | None = "0003_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_paper_versions") as batch:
        batch.add_column(
            sa.Column("signature", sa.String(length=16), nullable=False, server_default="none")
        )
        batch.add_column(
            sa.Column("signature_summary", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("session_paper_versions") as batch:
        batch.drop_column("signature_summary")
        batch.drop_column("signature")
