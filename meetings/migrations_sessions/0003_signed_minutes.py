"""The signed minutes of a session: the file the secretariat signed, who signed, when it came.

Revision ID: 0003_sessions
Revises: 0002_sessions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_sessions"
down_revision: str | Sequence[str] | None = "0002_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("council_sessions") as batch:
        batch.add_column(sa.Column("minutes_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("minutes_signer", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("minutes_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("council_sessions") as batch:
        batch.drop_column("minutes_at")
        batch.drop_column("minutes_signer")
        batch.drop_column("minutes_sha256")
