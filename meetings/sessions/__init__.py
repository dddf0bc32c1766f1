"""Council sessions (kỳ họp): agenda, invitations, attendance, speakers and votes (biểu quyết)."""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations_sessions"
"""The Alembic version directory of the sessions branch (sessions and papers)."""
