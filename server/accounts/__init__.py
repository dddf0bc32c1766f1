"""Agencies (cơ quan), officials and their roles, passwords, login sessions and API tokens."""
