"""briefings: the hall's walls and their page in the shared live room state

Revision ID: 0003_briefing_wall
Revises: 0002_briefing_live
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_briefing_wall"
down_revision: str | Sequence[str] | None = "0002_briefing_live"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("briefing_live_rooms") as batch:
        batch.add_column(sa.Column("walls", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("wall_page", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("briefing_live_rooms") as batch:
        batch.drop_column("wall_page")
        batch.drop_column("walls")
