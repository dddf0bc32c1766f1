"""Storage: the async engine, the one gateway every unit of work goes through, and migrations."""

from server.db.base import Base
from server.db.engine import Database

__all__ = ["Base", "Database"]
