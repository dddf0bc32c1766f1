"""Jinja2 pages, static assets and browser clients."""
