"""``column IN (ids)`` as one statement whatever the number of ids.

SQLAlchemy expands ``IN`` into one parameter per value, so a list of 7 ids and one of 8 are two
different statements: on PostgreSQL (asyncpg) each new text is prepared again — a round trip,
and a parse and plan in the server — before it runs.  A vote batch lists its polls and voters,
whose number changes with every batch, so every batch prepared its statements anew (issue 15:
several per cent of the servers' CPU while a hundred sittings voted, and an extra round trip
inside the transaction).  On PostgreSQL :func:`among` is ``column = ANY(:ids)`` with the ids as
one array parameter, one prepared statement for any count; elsewhere (SQLite, which prepares
nothing across calls) it is the plain ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


def among(
    session: AsyncSession, column: InstrumentedAttribute[Any], ids: Iterable[int]
) -> ColumnElement[bool]:
    """``column`` is one of the integer ``ids``, as one fixed statement on PostgreSQL."""
    values = list(ids)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(Integer)))
    return column.in_(values)
