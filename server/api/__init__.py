"""The platform's JSON API (``/api/v1``): who am I, agencies, people, tokens, audit."""

from server.api.agencies import routes as agency_routes
from server.api.audit import routes as audit_routes
from server.api.auth import routes as auth_routes
from server.api.certificates import routes as certificate_routes
from server.api.users import routes as user_routes

ROUTES = [auth_routes, agency_routes, user_routes, certificate_routes, audit_routes]
__all__ = ["ROUTES"]
