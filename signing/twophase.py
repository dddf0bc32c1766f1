"""Two-phase signing over HTTP, declared once (ký số hai bước bằng token của người ký): the bodies
a page sends and the prepare → agent → finish steps, for every route where a person signs a PDF
with their own token (a draft's leader signature, the session minutes, an uploaded file).

1. ``…/prepare`` with :class:`PrepareBody` (the certificate the local signing agent reported) →
   :func:`prepare_for` → what the agent signs (:class:`Prepared`).
2. The agent shows what it signs, asks the PIN and signs on the token; the page passes the
   signature on.
3. ``…/finish`` with :class:`FinishBody` → :func:`finish_for` → the signed PDF, which the caller
   checks and keeps as its domain decides.

A pending request belongs to the person who prepared it (:func:`remote_owner`) and to the
``context`` the caller names (what is signed, e.g. ``minutes:<session id>``): finishing it as
someone else, or for another document, answers as for an unknown request
(:mod:`signing.remote`).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.typedefs import Handler
from asn1crypto import x509 as asn1_x509
from pydantic import BaseModel, Field

from server.accounts.principal import Principal
from server.errors import ConfigError, ValidationFailed
from server.http.body import Body
from server.http.openapi import ApiRoutes, Schema
from signing.errors import CertificateProblem
from signing.pades import Level, SignOptions
from signing.remote import (
    PreparedSignature,
    RemoteSigning,
    RequestNotFound,
    SignerCheck,
    load_certificate,
)

MAX_CHAIN = 10
"""CA certificates a signer may send with theirs (a national chain has two or three)."""
MAX_CERT_B64 = 64 * 1024
MAX_SIGNATURE_B64 = 8192


class PrepareBody(Body):
    """Step 1: the signer's certificate, as the agent's ``/certificates`` gives it."""

    certificate_b64: str = Field(description="the signer's certificate, DER, base64")
    chain_b64: list[str] | None = Field(
        default=None,
        max_length=MAX_CHAIN,
        description="the CA certificates of its chain, DER, base64",
    )


class FinishBody(Body):
    """Step 2: the agent's raw signature over what step 1 answered."""

    request_id: str = Field(description="from the prepare step's answer")
    signature_b64: str = Field(description="RSA PKCS#1 v1.5 over to_sign_b64, base64")


class Prepared(BaseModel):
    """The answer to a prepare step: what the page passes on to the agent's ``/sign``."""

    request_id: str
    to_sign_b64: str = Field(description="DER signed attributes, for the agent")
    message_digest: str = Field(description="SHA-256 of the signed byte range, hex")
    document_sha256: str
    field_name: str
    expires_in: int = Field(description="seconds")


_STEPS: dict[str, type[Body]] = {"prepare": PrepareBody, "finish": FinishBody}


def _step_route(
    routes: ApiRoutes, step: str, base: str, text: tuple[str, tuple[str, ...]], response: Any
) -> Callable[[Handler], Handler]:
    summary, tags = text
    path, body = f"{base}/sign/{step}", _STEPS[step]
    return routes.route("POST", path, summary=summary, tags=tags, body=body, response=response)


def prepare_route(
    routes: ApiRoutes, base: str, summary: str, tags: tuple[str, ...], response: type[Prepared]
) -> Callable[[Handler], Handler]:
    """Declare ``POST {base}/sign/prepare`` (body :class:`PrepareBody`) in ``routes``."""
    return _step_route(routes, "prepare", base, (summary, tags), response)


def finish_route(
    routes: ApiRoutes, base: str, summary: str, tags: tuple[str, ...], response: Schema | None
) -> Callable[[Handler], Handler]:
    """Declare ``POST {base}/sign/finish`` (body :class:`FinishBody`) in ``routes``."""
    return _step_route(routes, "finish", base, (summary, tags), response)


def remote_owner(p: Principal) -> str:
    """Who owns a pending two-phase signature: the user, whatever session or token they use."""
    return f"user:{p.user_id}"


def default_options(tsa_url: str | None) -> SignOptions:
    """An invisible signature, timestamped (B-T) when the server has a timestamp authority."""
    return SignOptions(level=Level.B_T if tsa_url else Level.B_B, tsa_url=tsa_url)


def _b64(value: str, field: str, what_vi: str, limit: int) -> bytes:
    if not value or len(value) > limit:
        raise ValidationFailed(
            f"{field} must be base64 text",
            detail_vi=f"Thiếu hoặc sai {what_vi} (cần chuỗi base64).",
            extra={"field": field},
        )
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise ValidationFailed(
            f"{field} is not base64",
            detail_vi=f"{what_vi.capitalize()} không phải chuỗi base64 hợp lệ.",
            extra={"field": field},
        ) from None


def signer_of(body: PrepareBody) -> tuple[asn1_x509.Certificate, list[asn1_x509.Certificate]]:
    """The signer's certificate and its chain; :class:`CertificateProblem` when unusable."""
    cert = load_certificate(
        _b64(body.certificate_b64, "certificate_b64", "chứng thư số", MAX_CERT_B64)
    )
    if cert.ca:
        raise CertificateProblem(
            "a CA certificate cannot sign documents", "đây là chứng thư của tổ chức cấp (CA)."
        )
    chain = [
        load_certificate(_b64(c, "chain_b64", "chuỗi chứng thư", MAX_CERT_B64))
        for c in body.chain_b64 or []
    ]
    return cert, chain


def _binding(remote: RemoteSigning) -> SignerCheck:
    """The registry of who signs with which certificate: without it nothing is signed."""
    if remote.binding is None:
        raise ConfigError("signing.binding", "no signer registry: personal signatures refused")
    return remote.binding


def prepared_dict(prepared: PreparedSignature, ttl: float) -> dict[str, Any]:
    """The :class:`Prepared` answer as JSON."""
    return Prepared(
        request_id=prepared.request_id,
        to_sign_b64=prepared.to_sign_b64,
        message_digest=prepared.message_digest,
        document_sha256=prepared.document_sha256,
        field_name=prepared.field_name,
        expires_in=int(ttl),
    ).model_dump()


async def prepare_for(
    remote: RemoteSigning,
    body: PrepareBody,
    load_pdf: Callable[[], Awaitable[bytes]],
    *,
    principal: Principal,
    context: str,
    options: SignOptions | None = None,
) -> dict[str, Any]:
    """Step 1 for ``principal``: the PDF from ``load_pdf`` (called only once the certificate has
    been read, so that a wrong one costs no rendering) prepared for their certificate; the
    answer for the agent. ``options`` default to :func:`default_options`."""
    cert, chain = signer_of(body)
    await _binding(remote).require(principal, cert.dump())
    pdf = await load_pdf()
    prepared = await remote.prepare(
        pdf,
        cert,
        chain,
        options or default_options(remote.tsa_url),
        owner=remote_owner(principal),
        context=context,
    )
    return prepared_dict(prepared, remote.ttl)


async def finish_for(
    remote: RemoteSigning, body: FinishBody, *, principal: Principal, context: str
) -> bytes:
    """Step 2: the signed PDF, once the agent's signature matches the certificate; only the
    person who prepared it, for the same ``context`` (otherwise 404, as for an unknown request)."""
    if not 0 < len(body.request_id) <= 64:
        raise RequestNotFound()
    signature = _b64(body.signature_b64, "signature_b64", "chữ ký", MAX_SIGNATURE_B64)
    owner = remote_owner(principal)
    der = remote.pending_certificate(body.request_id, owner=owner, context=context)
    if der is not None:  # else finish answers unknown or expired
        await _binding(remote).require(principal, der, propose=False)
    return await remote.finish(
        body.request_id, signature, owner=remote_owner(principal), context=context
    )
