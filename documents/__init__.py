"""Official documents and their exchange between agencies (liên thông văn bản)."""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The domain's Alembic version directory (listed by ``lienthong.migrations``)."""
