"""briefings: briefings and their invitations

Revision ID: 0001_briefings
Revises:
Create Date: 2026-11-23 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_briefings"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("briefings",)
depends_on: str | Sequence[str] | None = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "briefings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("join_code", sa.String(length=32), nullable=False),
        sa.Column("chair_user_id", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=False),
        sa.Column("meeting_ref", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chair_user_id"], ["users.id"], name=op.f("fk_briefings_chair_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_briefings_created_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefings")),
        sa.UniqueConstraint("join_code", name=op.f("uq_briefings_join_code")),
    )
    with op.batch_alter_table("briefings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_briefings_chair_user_id"), ["chair_user_id"], unique=False
        )
    op.create_table(
        "briefing_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_briefing_invites_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_invites_briefing_id_briefings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_briefing_invites_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_invites")),
        sa.UniqueConstraint(
            "briefing_id", "agency_id", "user_id", name=op.f("uq_briefing_invites_briefing_id")
        ),
    )
    with op.batch_alter_table("briefing_invites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_briefing_invites_briefing_id"), ["briefing_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("briefing_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefing_invites_briefing_id"))
    op.drop_table("briefing_invites")
    with op.batch_alter_table("briefings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefings_chair_user_id"))
    op.drop_table("briefings")
