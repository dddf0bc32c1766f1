"""Video briefings (hội nghị trực tuyến): province, district and commune halls (điểm cầu) by video.

Layers, one way: ``http`` (REST and the signaling WebSocket) → ``service`` (who may do what) →
``repository`` (SQL, ``*_txn``) → ``models``; the media plane lives in ``sfu/`` (a selective
forwarding unit on aiortc that never decodes), the signaling wire format in ``messages``.
"""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations_briefings"
"""This domain's Alembic version directory (branch ``briefings``)."""
