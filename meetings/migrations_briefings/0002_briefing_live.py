"""briefings: live room state shared by the media workers (hands, floor, mutes, recording)

Revision ID: 0002_briefing_live
Revises: 0001_briefings
Create Date: 2026-12-01 02:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_briefing_live"
down_revision: str | Sequence[str] | None = "0001_briefings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "briefing_live_rooms",
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("spotlight", sa.String(length=64), nullable=True),
        sa.Column("recording", sa.Boolean(), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_live_rooms_briefing_id_briefings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("briefing_id", name=op.f("pk_briefing_live_rooms")),
    )
    op.create_table(
        "briefing_live_participants",
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("participant", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("chair", sa.Boolean(), nullable=False),
        sa.Column("endpoint", sa.Boolean(), nullable=False),
        sa.Column("worker", sa.Integer(), nullable=True),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("streams", sa.Text(), nullable=False),
        sa.Column("audio_muted", sa.Boolean(), nullable=False),
        sa.Column("video_muted", sa.Boolean(), nullable=False),
        sa.Column("muted_by_chair", sa.Boolean(), nullable=False),
        sa.Column("hand", sa.Boolean(), nullable=False),
        sa.Column("audio_only", sa.Boolean(), nullable=False),
        sa.Column("rtt_ms", sa.Float(), nullable=True),
        sa.Column("loss", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_live_participants_briefing_id_briefings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "briefing_id", "participant", name=op.f("pk_briefing_live_participants")
        ),
    )


def downgrade() -> None:
    op.drop_table("briefing_live_participants")
    op.drop_table("briefing_live_rooms")
