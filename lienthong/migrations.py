"""Every Alembic version folder the database needs: the platform's and each domain's branch."""

from __future__ import annotations

from pathlib import Path

from documents import MIGRATIONS as DOCUMENTS_MIGRATIONS
from meetings.briefings import MIGRATIONS as BRIEFINGS_MIGRATIONS
from meetings.sessions import MIGRATIONS as SESSIONS_MIGRATIONS

MIGRATION_DIRS: list[Path] = [BRIEFINGS_MIGRATIONS, SESSIONS_MIGRATIONS, DOCUMENTS_MIGRATIONS]
"""Alembic version directories of the domain packages, besides the platform's own."""
