"""Mounts the documents domain: its API (:mod:`documents.http`) and its pages in Vietnamese."""

from __future__ import annotations

from aiohttp import web

from documents.drafts_http import setup_drafts
from documents.http import MIGRATIONS as DOCUMENT_MIGRATIONS
from documents.http import setup as setup_api
from web.documents.drafts import add_draft_pages
from web.documents.pages import add_pages

__all__ = ["DOCUMENT_MIGRATIONS", "setup_documents"]


def setup_documents(app: web.Application) -> None:
    """The API under ``/api/v1/documents`` and the pages under ``/documents``."""
    setup_drafts(app)  # first: ``/api/v1/documents/drafts`` before ``/api/v1/documents/{id}``
    setup_api(app)
    add_draft_pages(app)  # before ``/documents/{id}``
    add_pages(app)
