"""The documents' pages in Vietnamese (the assembly mounts :mod:`documents.http` first)."""

from __future__ import annotations

from aiohttp import web

from web.documents.drafts import add_draft_pages
from web.documents.pages import add_pages

__all__ = ["add_document_pages"]


def add_document_pages(app: web.Application) -> None:
    """The pages under ``/documents``."""
    add_draft_pages(app)  # before ``/documents/{id}``
    add_pages(app)
