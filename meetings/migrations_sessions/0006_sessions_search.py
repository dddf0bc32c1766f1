"""Papers: the folded text of each page (Vietnamese-aware search)

``session_paper_pages.text_folded`` holds the page's text by the search fold of
:mod:`server.search` (no diacritics, ``đ`` → ``d``, case-folded), written with the page; the
search compares it in SQL and maps a hit back to the text as written.  Existing pages are
backfilled here.

Revision ID: 0006_sessions_search
Revises: 0005_sessions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.search import folded_fields

revision: str = "0006_sessions_search"
down_revision: str | Sequence[str] | None = "0005_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_pages = sa.table(
    "session_paper_pages",
    sa.column("version_id", sa.Integer),
    sa.column("page", sa.Integer),
    sa.column("text", sa.Text),
    sa.column("text_folded", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("session_paper_pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_folded", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    versions = bind.execute(sa.select(_pages.c.version_id).distinct()).scalars().all()
    for version in versions:  # one paper version at a time: a few hundred pages
        rows = bind.execute(
            sa.select(_pages.c.page, _pages.c.text).where(_pages.c.version_id == version)
        ).all()
        bind.execute(
            _pages.update()
            .where(_pages.c.version_id == version, _pages.c.page == sa.bindparam("p"))
            .values(text_folded=sa.bindparam("f")),
            [{"p": page, "f": folded_fields(text)} for page, text in rows],
        )


def downgrade() -> None:
    with op.batch_alter_table("session_paper_pages", schema=None) as batch_op:
        batch_op.drop_column("text_folded")
