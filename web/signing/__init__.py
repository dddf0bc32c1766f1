"""Signatures in the browser: checking a signed PDF (``/verify``) and the trust roots
(``/admin/trust``)."""

from web.signing.pages import add_pages as add_signing_pages

__all__ = ["add_signing_pages"]
