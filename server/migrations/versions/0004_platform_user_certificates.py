"""platform: signing certificates registered to officials (user_certificates)

Revision ID: 0004_platform_user_certificates
Revises: 0003_platform_agency_history

A personal signature is accepted only with a certificate registered to the person signing
(:mod:`signing.binding`): registered by an administrator, or proposed on first use and approved.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_platform_user_certificates"
down_revision: str | Sequence[str] | None = "0003_platform_agency_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("personal_id", sa.String(length=64), nullable=False),
        sa.Column("subject_name", sa.String(length=300), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_certificates_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_user_certificates_added_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_user_certificates_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_certificates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_user_certificates_fingerprint")),
        sa.UniqueConstraint("issuer", "serial", name=op.f("uq_user_certificates_issuer")),
    )
    with op.batch_alter_table("user_certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_certificates_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_certificates_user_id"))
    op.drop_table("user_certificates")
