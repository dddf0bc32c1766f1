"""The two-phase signing bodies are declared once (``signing.twophase``) and every route that lets
a person sign with their own token reads them: the draft's leader signature, the session minutes
and the upload of ``/api/v1/signatures``. The OpenAPI document is derived from the same models, and
a wrong field is answered 422 naming it, the same way on every route."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from tests.conftest import People
from tests.sessions.helpers import make_council

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"

PREPARE = (
    "/api/v1/documents/drafts/{id}/sign/prepare",
    "/api/v1/sessions/{sid}/minutes/sign/prepare",
)
FINISH = (
    "/api/v1/documents/drafts/{id}/sign/finish",
    "/api/v1/sessions/{sid}/minutes/sign/finish",
    "/api/v1/signatures/finish",
)


async def test_openapi_derives_the_bodies_from_one_declaration(client: Client) -> None:
    spec = await (await client.get("/api/v1/openapi.json")).json()

    def body_of(path: str) -> dict[str, Any]:
        schema: dict[str, Any] = spec["paths"][path]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]
        return schema

    prepares = [body_of(p) for p in PREPARE]
    assert all(b == prepares[0] for b in prepares) and prepares[0]["title"] == "PrepareBody"
    assert prepares[0]["required"] == ["certificate_b64"]
    finishes = [body_of(p) for p in FINISH]
    assert all(b == finishes[0] for b in finishes) and finishes[0]["title"] == "FinishBody"
    upload = spec["paths"]["/api/v1/signatures/prepare"]["post"]["requestBody"]["content"]
    assert (
        "UploadPrepareBody"
        in upload["multipart/form-data"]["schema"]["properties"]["request"]["description"]
    )
    answer = spec["paths"][PREPARE[0]]["post"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"]["title"] == "DraftPrepared"


async def _field_problem(resp: Any, field: str) -> None:
    body = await resp.json(content_type=PROBLEM)
    assert resp.status == 422, body
    assert body["code"] == "validation_failed" and body["field"] == field, body
    assert body["detail_vi"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"certificate_b64": 5}, "certificate_b64"),
        ({}, "certificate_b64"),
        ({"certificate_b64": "AA==", "chain_b64": ["AA=="] * 11}, "chain_b64"),
        ({"certificate_b64": "AA==", "role": "leader"}, "role"),
    ],
)
async def test_a_wrong_field_is_named_on_every_route(
    client: Client, people: People, body: dict[str, Any], field: str
) -> None:
    """Unknown fields included: a body is what its model declares, no more."""
    c = await make_council(client, people)
    resp = await client.post(
        f"/api/v1/sessions/{c.sid}/minutes/sign/prepare", json=body, headers=c.h("thuky")
    )
    await _field_problem(resp, field)
    form = FormData()
    form.add_field("file", b"%PDF-1.7\n%%EOF\n", filename="a.pdf", content_type="application/pdf")
    upload = {**body, "role": "nobody"} if field == "role" else body
    form.add_field("request", json.dumps(upload))
    resp = await client.post("/api/v1/signatures/prepare", data=form, headers=c.h("thuky"))
    await _field_problem(resp, field)


async def test_finish_bodies_are_checked_the_same_way(client: Client, people: People) -> None:
    c = await make_council(client, people)
    for url in (f"/api/v1/sessions/{c.sid}/minutes/sign/finish", "/api/v1/signatures/finish"):
        resp = await client.post(url, json={"request_id": "x"}, headers=c.h("thuky"))
        await _field_problem(resp, "signature_b64")
        resp = await client.post(
            url, json={"request_id": "x" * 65, "signature_b64": "AA=="}, headers=c.h("thuky")
        )
        body = await resp.json(content_type=PROBLEM)
        assert resp.status == 404 and body["code"] == "signing.request_not_found", body
