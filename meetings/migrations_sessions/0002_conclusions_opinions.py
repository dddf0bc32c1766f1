"""Conclusions (kết luận) of a session; opinion collection (lấy ý kiến) as a kind of poll.

Revision ID: 0002_sessions
Revises: 0001_sessions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sessions"
down_revision: str | Sequence[str] | None = "0001_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("council_sessions") as batch:
        batch.add_column(sa.Column("conclusions", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("session_polls") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="vote")
        )
        batch.add_column(sa.Column("deadline", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session_polls") as batch:
        batch.drop_column("deadline")
        batch.drop_column("kind")
    with op.batch_alter_table("council_sessions") as batch:
        batch.drop_column("conclusions")
