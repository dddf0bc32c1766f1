"""A wrapper that keeps secrets (PINs, passwords, database URLs) out of logs and reprs."""

from __future__ import annotations

import re
from dataclasses import dataclass

_URL_PASSWORD = re.compile(r"(://[^:/@]+:)([^@]+)(@)")


@dataclass(frozen=True, slots=True)
class Secret:
    """A string whose ``repr``/``str`` never shows the value; call :meth:`reveal` to use it."""

    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __bool__(self) -> bool:
        return bool(self._value)


def mask_url(url: str) -> str:
    """``postgresql://u:pw@h/db`` → ``postgresql://u:***@h/db`` for logs."""
    return _URL_PASSWORD.sub(r"\1***\3", url)
