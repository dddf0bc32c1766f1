"""``/api/v1/users/{login}/certificates`` (admin) and ``/api/v1/me/certificates``: the signing
certificates registered to each official (:mod:`server.accounts.certificates`).

- ``GET /api/v1/users/{login}/certificates``: their certificates, proposed, approved or revoked.
- ``POST /api/v1/users/{login}/certificates`` ``{certificate_b64}``: register one, approved.
- ``POST …/certificates/{id}/approve`` and ``…/revoke``: decide on a proposed one, or withdraw.
- ``GET /api/v1/me/certificates``: my approved certificates still valid (the signing agent's
  picker offers only these).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any

from aiohttp import web
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.certificates import (
    CertificateUnreadable,
    certificate_dict,
    certificates_of_txn,
    decide_txn,
    facts_of,
    register_txn,
)
from server.accounts.users import get_user_txn
from server.audit.log import append_txn
from server.auth.principal import Principal, Role, require_principal
from server.db.engine import Database
from server.http.body import Body, read_body
from server.http.jsonio import json_ok
from server.http.keys import DB_KEY
from server.http.openapi import ApiRoutes
from server.http.params import path_int

routes = ApiRoutes()
TAGS = ("users",)
BASE = "/api/v1/users/{login}/certificates"


class NewCertificate(Body):
    """A certificate to register to the person (DER, base64; PEM is accepted too)."""

    certificate_b64: Annotated[str, StringConstraints(min_length=1, max_length=64 * 1024)]


def _der(text: str) -> bytes:
    if "-----BEGIN" in text:
        text = "".join(line for line in text.splitlines() if line and "-----" not in line)
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CertificateUnreadable(
            "certificate_b64 is not base64",
            detail_vi="Chứng thư số không phải chuỗi base64 hợp lệ.",
            extra={"field": "certificate_b64"},
        ) from None


@routes.route("GET", BASE, summary="A person's signing certificates (admin)", tags=TAGS)
async def list_certificates(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        user = await get_user_txn(session, request.match_info["login"])
        return [certificate_dict(c) for c in await certificates_of_txn(session, user.id)]

    return json_ok({"certificates": await request.app[DB_KEY].read("user_certs", run)})


@routes.route(
    "POST", BASE, summary="Register a signing certificate (admin)", tags=TAGS, body=NewCertificate
)
async def add_certificate(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    text = (await read_body(request, NewCertificate)).certificate_b64
    added = await register_certificate(request.app[DB_KEY], p, request.match_info["login"], text)
    return json_ok(added, status=201)


async def register_certificate(db: Database, p: Principal, login: str, text: str) -> dict[str, Any]:
    """An administrator registers a certificate (base64 DER or PEM) to ``login``, approved."""
    facts = facts_of(_der(text))

    async def run(session: AsyncSession) -> dict[str, Any]:
        user = await get_user_txn(session, login)
        row = await register_txn(session, user, facts, status="approved", by=p.user_id)
        await session.flush()
        await _audit(session, p, "user.certificate_registered", user.login, row.fingerprint)
        return certificate_dict(row)

    return await db.write("user_cert_add", run)


async def _audit(session: AsyncSession, p: Principal, action: str, login: str, fp: str) -> None:
    await append_txn(
        session,
        action,
        actor=p.login,
        actor_user_id=p.user_id,
        target=login,
        details={"fingerprint": fp},
    )


async def decide_certificate(
    db: Database, p: Principal, login: str, cert_id: int, status: str
) -> dict[str, Any]:
    """An administrator approves (``approved``) or withdraws (``revoked``) a registration."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        user = await get_user_txn(session, login)
        row = await decide_txn(session, user.id, cert_id, status, p.user_id)
        await _audit(session, p, f"user.certificate_{status}", user.login, row.fingerprint)
        return certificate_dict(row)

    return await db.write(f"user_cert_{status}", run)


async def _decide(request: web.Request, status: str) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    cert_id = path_int(request, "id")
    login = request.match_info["login"]
    return json_ok(await decide_certificate(request.app[DB_KEY], p, login, cert_id, status))


@routes.route(
    "POST", BASE + "/{id}/approve", summary="Approve a proposed certificate (admin)", tags=TAGS
)
async def approve(request: web.Request) -> web.Response:
    return await _decide(request, "approved")


@routes.route(
    "POST",
    BASE + "/{id}/revoke",
    summary="Withdraw a certificate's registration (admin)",
    tags=TAGS,
)
async def revoke(request: web.Request) -> web.Response:
    return await _decide(request, "revoked")


@routes.route(
    "GET",
    "/api/v1/me/certificates",
    summary="My approved signing certificates still valid (the signing agent's picker)",
    tags=TAGS,
)
async def my_certificates(request: web.Request) -> web.Response:
    p = require_principal(request)
    now = dt.datetime.now(dt.UTC)

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        rows = await certificates_of_txn(session, p.user_id, "approved")
        return [certificate_dict(c) for c in rows if c.not_before <= now <= c.not_after]

    return json_ok({"certificates": await request.app[DB_KEY].read("my_certs", run)})
