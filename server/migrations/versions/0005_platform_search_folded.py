"""platform: folded search columns of agencies and people (Vietnamese-aware search)

Revision ID: 0005_platform_search_folded
Revises: 0004_platform_user_certificates

``agencies.name_folded`` and ``users.search_folded`` hold the names by the search fold of
:mod:`server.search` (no diacritics, ``đ`` → ``d``, case-folded), kept by the application on
every write; this migration backfills the rows written before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.search import folded_fields

revision: str = "0005_platform_search_folded"
down_revision: str | Sequence[str] | None = "0004_platform_user_certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_agencies = sa.table(
    "agencies", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("name_folded")
)
_users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("login", sa.String),
    sa.column("full_name", sa.String),
    sa.column("search_folded", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_folded", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_folded", sa.Text(), nullable=False, server_default="")
        )
    bind = op.get_bind()
    agencies = bind.execute(sa.select(_agencies.c.id, _agencies.c.name)).all()
    if agencies:
        bind.execute(
            _agencies.update()
            .where(_agencies.c.id == sa.bindparam("i"))
            .values(name_folded=sa.bindparam("f")),
            [{"i": i, "f": folded_fields(name)} for i, name in agencies],
        )
    users = bind.execute(sa.select(_users.c.id, _users.c.login, _users.c.full_name)).all()
    if users:
        bind.execute(
            _users.update()
            .where(_users.c.id == sa.bindparam("i"))
            .values(search_folded=sa.bindparam("f")),
            [{"i": i, "f": folded_fields(login, name)} for i, login, name in users],
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("search_folded")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_column("name_folded")
