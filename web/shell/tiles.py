"""The tiles of the home page: which part of the system each role reaches."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from server.auth.principal import Principal, Role


@dataclass(frozen=True, slots=True)
class Tile:
    key: str
    """i18n key of the title; ``<key>.desc`` is the description."""
    href: str
    roles: frozenset[Role]
    """Who sees the tile; empty means everyone."""


TILES = (
    Tile("tile.documents", "/documents", frozenset({Role.CLERK, Role.LEADER, Role.OFFICIAL})),
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
