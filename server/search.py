"""Vietnamese-aware search: one folding rule for every search box (papers, documents, agencies,
people), in Python, in SQL and in the browser (``web/static/fold.js`` is the same rule).

**The rule** (:func:`fold`): Unicode case folding, canonical decomposition (NFD), every
nonspacing mark (category Mn) dropped (tones and the circumflex, breve and horn: ``ấ ằ ở ự`` → ``a a o u``),
``đ`` → ``d``, every run of white space made one space, the ends trimmed.  So a query and a
text match whatever the user typed: with or without diacritics (``ngân sách`` / ``ngan sach``),
either tone-mark placement (``thủy`` / ``thuỷ``, ``hòa`` / ``hoà``, ``khỏe`` / ``khoẻ``,
``quý`` / ``qúy``), any case, ``Đ`` / ``đ`` / ``d``, NFC or NFD input.  Search is by design
loose: ``ma`` finds ``mà``, ``má`` and ``mã`` alike, as Vietnamese users expect from a search box.

**In SQL** a table keeps a *folded column* (``agencies.name_folded``, ``users.search_folded``,
``documents.search_folded``, ``session_paper_pages.text_folded``) that the application computes with :func:`fold` whenever a row is
inserted or its source fields change (:func:`keep_folded`, an ORM flush hook, so every write
path through the ORM is covered); each table's migration backfills it.  A query then compares
the folded column with ``LIKE`` and the folded needle (:func:`like_folded`): the same bytes on
SQLite and PostgreSQL, no database extension (PostgreSQL's ``unaccent`` is not assumed), and
the fold is never re-implemented in SQL.

**In memory** (the agency lineage; the snippet of a paper page SQL found) :func:`find` folds
both sides and maps the hit back to the original text, so a snippet shows the words as written.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, event
from sqlalchemy.orm import InstrumentedAttribute

SEPARATOR = "\n"
"""Between the fields of one folded column: a folded needle never holds it (white space is
collapsed to one space), so a match never spans two fields."""


def fold(text: str) -> str:
    """The search form of ``text``: case-folded, without diacritics, ``đ`` as ``d``, single
    spaces, trimmed (see the module's docstring)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.replace("đ", "d").split())


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFD", char.casefold())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").replace("đ", "d")


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each of its characters, the index in ``text`` it comes from."""
    out: list[str] = []
    where: list[int] = []
    space = True  # at the start: leading white space is dropped
    for i, char in enumerate(text):
        if char.isspace():
            if not space:
                out.append(" ")
                where.append(i)
            space = True
            continue
        for piece in _fold_char(char):
            out.append(piece)
            where.append(i)
            space = False
    if out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


def find(text: str, query: str) -> tuple[int, int] | None:
    """Where the first match of ``query`` is in ``text`` by the fold, as ``(start, end)``
    indices of ``text`` (so ``text[start:end]`` is the words as written); None if none."""
    needle = fold(query)
    if not needle:
        return None
    folded, where = fold_with_map(text)
    at = folded.find(needle)
    if at < 0:
        return None
    end = where[at + len(needle) - 1] + 1
    while end < len(text) and unicodedata.category(text[end]) == "Mn":
        end += 1  # the marks of the last letter belong to the match (NFD text)
    return where[at], end


def folded_fields(*values: str | None) -> str:
    """The value of a folded column over several fields."""
    return SEPARATOR.join(fold(v or "") for v in values)


def like_folded(column: InstrumentedAttribute[str], query: str) -> ColumnElement[bool]:
    """``column LIKE '%<fold(query)>%'`` with ``%``, ``_`` and ``\\`` taken literally; the
    column is a folded column kept by :func:`keep_folded`."""
    needle = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{needle}%", escape="\\")


def folded_default(*sources: str) -> Callable[[Any], str]:
    """The ``default=`` of a folded column over the columns ``sources``: computed on every
    insert, through the ORM or a Core ``insert()`` alike."""

    def default(context: Any) -> str:
        values = context.get_current_parameters()
        return folded_fields(*(values.get(s) for s in sources))

    return default


def keep_folded(model: type[Any], target: str, *sources: str) -> None:
    """Keep ``model.<target>`` equal to :func:`folded_fields` of ``sources`` on every ORM
    insert and update (with :func:`folded_default` for Core inserts; nothing updates the
    source fields with a Core ``update()``: one that did would have to set it too)."""

    def refresh(_mapper: Any, _conn: Any, row: Any) -> None:
        setattr(row, target, folded_fields(*(getattr(row, s) for s in sources)))

    hook: Callable[[Any, Any, Any], None] = refresh
    event.listen(model, "before_insert", hook)
    event.listen(model, "before_update", hook)
