"""Agencies through time: who receives what is addressed to an ended code, every name a unit
had, and the tree as it stood on a given day.

These are the platform functions the domains call (the documents exchange routes a document
sent to an ended code with :func:`resolve_successors_txn`; search matches former names with
:func:`agency_names_txn`).  The model is described in ``docs/agencies.md``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import get_agency_txn
from server.accounts.models import Agency, AgencySuccession


def valid_on(agency: Agency, on_date: date) -> bool:
    """True when ``agency``'s code is valid on ``on_date`` (open ends count as valid)."""
    if agency.valid_from is not None and on_date < agency.valid_from:
        return False
    return agency.valid_to is None or on_date <= agency.valid_to


async def resolve_successors_txn(session: AsyncSession, code: str, on_date: date) -> list[Agency]:
    """The live agencies that receive, on ``on_date``, what is addressed to ``code``.

    ``[the agency]`` while its code is valid; once it ended, its successors, followed through
    every later change (merged, then renamed…) up to ``on_date``; ``[]`` when the line ends in a
    dissolution or the code did not exist yet.  Raises :class:`UnknownAgency` for an unknown
    code.  Successors come in code order, each once.
    """
    start = await get_agency_txn(session, code)
    found: list[Agency] = []
    seen: set[int] = set()
    todo = [start]
    while todo:
        agency = todo.pop(0)
        if agency.id in seen:
            continue
        seen.add(agency.id)
        if valid_on(agency, on_date):
            found.append(agency)
            continue
        if agency.valid_from is not None and on_date < agency.valid_from:
            continue  # not yet in existence: nobody receives for it
        todo.extend(
            await session.scalars(
                select(Agency)
                .join(AgencySuccession, AgencySuccession.successor_id == Agency.id)
                .where(
                    AgencySuccession.agency_id == agency.id,
                    AgencySuccession.effective_date <= on_date,
                )
                .order_by(Agency.code)
            )
        )
    return found


async def _lineage_txn(session: AsyncSession, code: str) -> list[Agency]:
    """The agency and every predecessor (predecessors of predecessors too), nearest first."""
    start = await get_agency_txn(session, code)
    found: list[Agency] = []
    seen: set[int] = set()
    todo = [start]
    while todo:
        agency = todo.pop(0)
        if agency.id in seen:
            continue
        seen.add(agency.id)
        found.append(agency)
        todo.extend(
            await session.scalars(
                select(Agency)
                .join(AgencySuccession, AgencySuccession.agency_id == Agency.id)
                .where(AgencySuccession.successor_id == agency.id)
                .order_by(Agency.code)
            )
        )
    return found


async def agency_names_txn(session: AsyncSession, code: str) -> list[str]:
    """Every name the unit and its predecessors had, its own first, each once.

    Search uses it so that a query for a former commune's name finds the documents of the
    commune it merged into, and the reverse."""
    names: list[str] = []
    for agency in await _lineage_txn(session, code):
        if agency.name not in names:
            names.append(agency.name)
    return names


async def predecessor_codes_txn(session: AsyncSession, code: str) -> list[str]:
    """``code`` and the codes of all its predecessors: what an inbox of the unit should match
    among documents addressed before the restructuring."""
    return [a.code for a in await _lineage_txn(session, code)]


@dataclass(frozen=True, slots=True)
class Link:
    """One succession as pages show it."""

    change: str
    other_code: str
    other_name: str
    effective_date: date
    act_number: str
    act_date: date | None


@dataclass(slots=True)
class TreeNode:
    """An agency valid on the tree's date, with its children and its history."""

    code: str
    name: str
    level: int
    valid_from: date | None
    valid_to: date | None
    children: list[TreeNode] = field(default_factory=list)
    successors: list[Link] = field(default_factory=list)
    """What the unit became (empty while it has no end, or when it ended with no record)."""
    predecessors: list[Link] = field(default_factory=list)
    """The units it carries on."""
    dissolved: Link | None = None


async def _links_txn(
    session: AsyncSession, names: dict[int, tuple[str, str]]
) -> tuple[dict[int, list[Link]], dict[int, list[Link]], dict[int, Link]]:
    forward: dict[int, list[Link]] = defaultdict(list)
    backward: dict[int, list[Link]] = defaultdict(list)
    dissolved: dict[int, Link] = {}
    for s in await session.scalars(select(AgencySuccession).order_by(AgencySuccession.id)):
        if s.successor_id is None:
            dissolved[s.agency_id] = Link(
                s.change, "", "", s.effective_date, s.act_number, s.act_date
            )
            continue
        to_code, to_name = names[s.successor_id]
        from_code, from_name = names[s.agency_id]
        when, act, act_date = s.effective_date, s.act_number, s.act_date
        forward[s.agency_id].append(Link(s.change, to_code, to_name, when, act, act_date))
        backward[s.successor_id].append(Link(s.change, from_code, from_name, when, act, act_date))
    return forward, backward, dissolved


async def tree_at_txn(session: AsyncSession, on_date: date) -> list[TreeNode]:
    """The agencies valid on ``on_date`` as a forest (roots first by level, then code).

    A unit whose parent is not valid that day (a commune whose district ended) shows as a root
    rather than disappearing."""
    agencies = list(await session.scalars(select(Agency).order_by(Agency.level, Agency.code)))
    names = {a.id: (a.code, a.name) for a in agencies}
    forward, backward, dissolved = await _links_txn(session, names)
    nodes = {
        a.id: TreeNode(
            a.code,
            a.name,
            a.level,
            a.valid_from,
            a.valid_to,
            successors=forward.get(a.id, []),
            predecessors=backward.get(a.id, []),
            dissolved=dissolved.get(a.id),
        )
        for a in agencies
        if valid_on(a, on_date)
    }
    roots: list[TreeNode] = []
    for agency in agencies:
        node = nodes.get(agency.id)
        if node is None:
            continue
        parent = nodes.get(agency.parent_id) if agency.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    return roots
