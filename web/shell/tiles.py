"""The tiles of the home page: which part of the system each role reaches."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.models import Draft
from server.auth.principal import Principal, Role
from server.http.keys import DB_KEY


@dataclass(frozen=True, slots=True)
class Tile:
    key: str
    """i18n key of the title; ``<key>.desc`` is the description."""
    href: str
    roles: frozenset[Role]
    """Who sees the tile; empty means everyone."""


TILES = (
    Tile("tile.documents", "/documents", frozenset({Role.CLERK, Role.LEADER, Role.OFFICIAL})),
    Tile("tile.drafts", "/documents/drafts", frozenset({Role.LEADER})),
    Tile("tile.sessions", "/sessions", frozenset({Role.MEMBER, Role.SECRETARIAT, Role.LEADER})),
    Tile(
        "tile.briefings",
        "/briefings",
        frozenset({Role.ENDPOINT, Role.LEADER, Role.SECRETARIAT, Role.CLERK, Role.OFFICIAL}),
    ),
    Tile("tile.admin", "/admin/agencies", frozenset({Role.ADMIN})),
    Tile("tile.account", "/account", frozenset()),
)


def tiles_for(app: web.Application, principal: Principal) -> list[tuple[Tile, bool]]:
    """The tiles a person sees, each with whether its page is mounted on this server."""
    mounted = {r.canonical for r in app.router.resources() if isinstance(r, web.PlainResource)}
    return [(t, t.href in mounted) for t in TILES if not t.roles or principal.has(*t.roles)]


async def waiting_counts(app: web.Application, principal: Principal) -> dict[str, int]:
    """Counts shown on the tiles: for a leader, the agency's drafts waiting for a signature."""
    if not principal.has(Role.LEADER):
        return {}

    async def run(session: AsyncSession) -> int:
        query = select(func.count(Draft.id)).where(
            Draft.agency_id == principal.agency_id, Draft.state == "draft"
        )
        return int(await session.scalar(query) or 0)

    return {"tile.drafts": await app[DB_KEY].read("home_waiting_drafts", run)}
