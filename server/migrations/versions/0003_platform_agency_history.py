"""platform: agency successions (what became of an ended code), forced password change

Revision ID: 0003_platform_agency_history
Revises: 0002_platform_login_security

Agencies already carry ``valid_from``/``valid_to``; ``agency_successions`` records, for a code
that ended, its successors, the kind of change and the legal act.  ``users.must_change_password``
is set by an administrator's reset.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_platform_agency_history"
down_revision: str | Sequence[str] | None = "0002_platform_login_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_successions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("act_number", sa.String(length=100), nullable=False),
        sa.Column("act_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_successions_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["agencies.id"],
            name=op.f("fk_agency_successions_successor_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_successions")),
    )
    with op.batch_alter_table("agency_successions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agency_successions_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agency_successions_successor_id"), ["successor_id"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")

    with op.batch_alter_table("agency_successions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_successions_successor_id"))
        batch_op.drop_index(batch_op.f("ix_agency_successions_agency_id"))
    op.drop_table("agency_successions")
