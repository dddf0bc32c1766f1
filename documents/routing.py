"""Documents addressed to agencies whose code has ended (issue 11, agencies with history).

A document addressed to a unit that was merged, renamed or split is delivered to the unit(s)
that carry on, with a note on the recipient's timeline saying so; one addressed to a dissolved
unit is refused, naming the unit and the act.  Sending on this server
(:mod:`documents.sending`) and a document arriving from another server both route through
:func:`route_to_live_txn`, so the two paths cannot disagree.

Search matches an agency's former and later names with :func:`lineage_codes_txn`.
The model is described in ``docs/agencies.md``; the decisions in ``docs/documents.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.errors import BadField
from server.accounts.history import resolve_successors_txn, valid_on
from server.accounts.models import Agency, AgencySuccession
from server.search import fold

CHANGE_VI = {
    "merged": "đã sáp nhập vào",
    "renamed": "đã đổi tên thành",
    "split": "đã chia tách thành",
}
"""How the sender's timeline words each change kind."""


@dataclass(frozen=True, slots=True)
class Route:
    """One delivery: the code the sender addressed and the live agency that receives it."""

    addressed: str
    agency: Agency
    note: str
    """The timeline note when the addressed code ended ("" when it is the agency itself)."""


def _vn_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


async def _successions_txn(session: AsyncSession, agency: Agency) -> list[AgencySuccession]:
    rows = await session.scalars(
        select(AgencySuccession)
        .where(AgencySuccession.agency_id == agency.id)
        .order_by(AgencySuccession.id)
    )
    return list(rows)


async def _names_txn(session: AsyncSession, ids: Iterable[int | None]) -> list[str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return []
    rows = await session.scalars(select(Agency).where(Agency.id.in_(wanted)).order_by(Agency.code))
    return [a.name for a in rows]


async def _note_txn(
    session: AsyncSession, agency: Agency, steps: list[AgencySuccession], dest: Agency
) -> str:
    """``Đơn vị <old> đã sáp nhập vào <new> (theo <act>), văn bản chuyển đến <dest>``."""
    first = steps[0]
    new = ", ".join(await _names_txn(session, (s.successor_id for s in steps)))
    verb = CHANGE_VI.get(first.change, "đã được thay thế bởi")
    return (
        f"Đơn vị {agency.name} {verb} {new} (theo {first.act_number}), "
        f"văn bản chuyển đến {dest.name}"
    )


async def _refusal_txn(session: AsyncSession, agency: Agency, on_date: date) -> BadField:
    """Why nobody receives for ``agency`` on ``on_date``, naming the unit and the act."""
    unit = f"{agency.name} ({agency.code})"
    steps = await _successions_txn(session, agency)
    if steps and steps[0].change == "dissolved":
        act, when = steps[0].act_number, steps[0].effective_date
        return BadField(
            "to",
            f"{unit} was dissolved by {act} as of {when.isoformat()}; nobody receives for it.",
            f"Đơn vị {unit} đã giải thể theo {act} từ ngày {_vn_date(when)}; "
            "không có đơn vị nào tiếp nhận văn bản thay. Bỏ đơn vị này khỏi nơi nhận.",
        )
    if agency.valid_from is not None and on_date < agency.valid_from:
        return BadField(
            "to",
            f"{unit} only exists from {agency.valid_from.isoformat()}.",
            f"Đơn vị {unit} chỉ có hiệu lực từ ngày {_vn_date(agency.valid_from)}.",
        )
    return BadField(
        "to",
        f"{unit} has ended and no unit carries on its work (its successors were dissolved).",
        f"Đơn vị {unit} đã ngừng hoạt động và không còn đơn vị nào kế thừa để tiếp nhận văn bản.",
    )


async def _routes_of_txn(
    session: AsyncSession, agency: Agency, on_date: date
) -> list[tuple[Agency, str]]:
    """The live receivers for ``agency`` with their notes; raises when there is none."""
    if valid_on(agency, on_date):
        return [(agency, "")]
    receivers = await resolve_successors_txn(session, agency.code, on_date)
    if not receivers:
        raise await _refusal_txn(session, agency, on_date)
    steps = [s for s in await _successions_txn(session, agency) if s.effective_date <= on_date]
    return [(dest, await _note_txn(session, agency, steps, dest)) for dest in receivers]


async def route_to_live_txn(
    session: AsyncSession, codes: Sequence[str], on_date: date
) -> list[Route]:
    """Where a document addressed to ``codes`` (agencies of this server) goes on ``on_date``.

    A code valid that day receives it itself; an ended one (merged, renamed, split) through
    its successors followed to that day, each with the note for the sender's timeline; a
    dissolved one refuses the whole delivery with :class:`BadField` naming the unit and the act
    (422).  Each live agency receives once: a code addressed directly wins over one reached
    through a predecessor.  Unknown codes raise ``UnknownAgency`` (404): filter them first.

    The sending path calls it (:mod:`documents.sending`); **the inbound path must call it
    too**: a document that arrives from another server for an ended code is delivered the same
    way (``documents/federation/inbound.py``, ``_receive_document``: the recipients written in
    ``effect`` come from this function instead of the addressed codes).
    """
    rows = await session.scalars(select(Agency).where(Agency.code.in_(sorted(set(codes)))))
    by_code = {a.code: a for a in rows}
    ordered = [by_code[c] for c in dict.fromkeys(codes) if c in by_code]
    missing = [c for c in codes if c not in by_code]
    if missing:
        await resolve_successors_txn(session, missing[0], on_date)  # raises UnknownAgency
    direct = [a for a in ordered if valid_on(a, on_date)]
    ended = [a for a in ordered if not valid_on(a, on_date)]
    routes: dict[str, Route] = {a.code: Route(a.code, a, "") for a in direct}
    for agency in ended:
        for dest, note in await _routes_of_txn(session, agency, on_date):
            routes.setdefault(dest.code, Route(agency.code, dest, note))
    return list(routes.values())


@dataclass(frozen=True, slots=True)
class _Graph:
    """Every unit (id, code, name) and the successions between them, both ways."""

    agencies: list[tuple[int, str, str]]
    forward: dict[int, set[int]]
    backward: dict[int, set[int]]

    def lineage(self, start: set[int]) -> set[str]:
        """The codes of ``start`` and of all their predecessors and successors."""
        found = _closure(start, self.forward) | _closure(start, self.backward)
        return {code for a_id, code, _name in self.agencies if a_id in found}


async def _graph_txn(session: AsyncSession) -> _Graph:
    rows = await session.execute(select(Agency.id, Agency.code, Agency.name))
    agencies = [(a_id, code, name) for a_id, code, name in rows.all()]
    forward: dict[int, set[int]] = defaultdict(set)
    backward: dict[int, set[int]] = defaultdict(set)
    edges = await session.execute(
        select(AgencySuccession.agency_id, AgencySuccession.successor_id).where(
            AgencySuccession.successor_id.is_not(None)
        )
    )
    for old, new in edges.all():
        if new is None:
            continue
        forward[old].add(new)
        backward[new].add(old)
    return _Graph(agencies, forward, backward)


async def lineage_codes_txn(session: AsyncSession, text: str) -> set[str]:
    """Codes of the units one of whose names, or a predecessor's or successor's, contains
    ``text`` by the search fold of :mod:`server.search` (case, diacritics and tone placement
    do not matter): a search for a former commune's name finds the documents of
    the commune it merged into, and a search for the new name those of the former communes.

    The same lineage as :func:`server.accounts.history.agency_names_txn`, computed for every
    unit at once (two queries, not one walk per unit)."""
    needle = fold(text)
    if not needle:
        return set()
    graph = await _graph_txn(session)
    return graph.lineage({a_id for a_id, _c, name in graph.agencies if needle in fold(name)})


async def lineage_of_codes_txn(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    """``codes`` with every predecessor and successor code (transitively): the agency filter
    of a register finds a unit's documents under its former and later codes."""
    wanted = set(codes)
    graph = await _graph_txn(session)
    return wanted | graph.lineage({a_id for a_id, code, _n in graph.agencies if code in wanted})


def _closure(start: set[int], edges: dict[int, set[int]]) -> set[int]:
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
