"""The web shell: login, the home page per role, the account page and the admin pages."""

from web.shell.setup import setup_web

__all__ = ["setup_web"]
