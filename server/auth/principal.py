"""The authenticated caller of a request (:class:`Principal`, defined with the accounts)."""

from __future__ import annotations

from aiohttp import web

from server.accounts.principal import Principal, Role
from server.errors import Forbidden, Unauthorized

__all__ = ["PRINCIPAL_KEY", "Principal", "Role", "get_principal", "require_principal"]


PRINCIPAL_KEY = web.RequestKey("principal", Principal)
"""Where the auth middleware stores the :class:`Principal` of an authenticated request."""


def get_principal(request: web.Request) -> Principal | None:
    """The caller, or None for an anonymous request."""
    return request.get(PRINCIPAL_KEY)


def require_principal(request: web.Request, *roles: Role) -> Principal:
    """The caller; 401 when anonymous, 403 when ``roles`` are given and none is held."""
    principal = get_principal(request)
    if principal is None:
        raise Unauthorized("Log in first.", detail_vi="Vui lòng đăng nhập.")
    if roles and not principal.has(*roles):
        names = ", ".join(r.value for r in roles)
        raise Forbidden(
            f"This needs one of the roles: {names}.",
            detail_vi="Bạn không có quyền thực hiện thao tác này.",
        )
    return principal
