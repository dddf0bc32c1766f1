"""Council sessions in the browser: the tablet reader, the secretariat desk and the wall screen."""

from web.sessions.pages import add_pages as add_session_pages

__all__ = ["add_session_pages"]
