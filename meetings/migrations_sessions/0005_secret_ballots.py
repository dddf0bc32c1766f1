"""Secret ballots: counts of an open secret vote in a tally updated in place, the voter count on
the poll, and no casting time kept for a secret vote.

Existing data: every poll's ``voted`` is its counts' sum; a secret vote that was opened gets its
tally rows with its counts (an open one's counts leave the poll row, which shows only ``voted``
until it closes); a secret vote's voter rows get the vote's opening time instead of the time
each member voted.  Audit entries already written cannot change (the chain would break).

Revision ID: 0005_sessions
Revises: 0004_sessions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sessions"
down_revision: str | Sequence[str] | None = "0004_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHOICES = ("yes", "no", "abstain")


def upgrade() -> None:
    op.create_table(
        "session_poll_tally",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["session_polls.id"],
            name=op.f("fk_session_poll_tally_poll_id_session_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", "choice", name=op.f("pk_session_poll_tally")),
    )
    with op.batch_alter_table("session_polls") as batch:
        batch.add_column(sa.Column("voted", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE session_polls SET voted = yes + no + abstain")
    opened = "secret = :t AND status IN ('open', 'closed')"
    for choice in CHOICES:
        op.get_bind().execute(
            sa.text(
                "INSERT INTO session_poll_tally (poll_id, choice, count) "
                f"SELECT id, :c, {choice} FROM session_polls WHERE {opened}"
            ),
            {"c": choice, "t": True},
        )
    op.get_bind().execute(
        sa.text(
            "UPDATE session_polls SET yes = 0, no = 0, abstain = 0 "
            "WHERE secret = :t AND status = 'open'"
        ),
        {"t": True},
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE session_poll_votes SET at = (SELECT COALESCE(p.opened_at, p.created_at) "
            "FROM session_polls p WHERE p.id = session_poll_votes.poll_id) "
            "WHERE poll_id IN (SELECT id FROM session_polls WHERE secret = :t)"
        ),
        {"t": True},
    )


def downgrade() -> None:
    for choice in CHOICES:
        op.get_bind().execute(
            sa.text(
                f"UPDATE session_polls SET {choice} = COALESCE((SELECT t.count "
                "FROM session_poll_tally t WHERE t.poll_id = session_polls.id AND t.choice = :c), 0) "
                "WHERE secret = :t AND status = 'open'"
            ),
            {"c": choice, "t": True},
        )
    with op.batch_alter_table("session_polls") as batch:
        batch.drop_column("voted")
    op.drop_table("session_poll_tally")
