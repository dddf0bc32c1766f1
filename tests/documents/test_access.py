"""Who may see what: every endpoint, every role, the sender's and the recipient's agency and a third
one. Documents of others answer 404 exactly like documents that do not exist."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send

PEOPLE: dict[str, tuple[str, tuple[Role, ...]]] = {
    "a_clerk": (AGENCY_A, (Role.CLERK,)),
    "a_leader": (AGENCY_A, (Role.LEADER,)),
    "a_official": (AGENCY_A, (Role.OFFICIAL,)),
    "a_member": (AGENCY_A, (Role.MEMBER,)),
    "a_admin": (AGENCY_A, (Role.ADMIN,)),
    "b_clerk": (AGENCY_B, (Role.CLERK,)),
    "b_leader": (AGENCY_B, (Role.LEADER,)),
    "b_official": (AGENCY_B, (Role.OFFICIAL,)),
    "b_assignee": (AGENCY_B, (Role.OFFICIAL,)),
    "b_member": (AGENCY_B, (Role.MEMBER, Role.SECRETARIAT, Role.ENDPOINT)),
    "b_admin": (AGENCY_B, (Role.ADMIN,)),
    "p_clerk": (PROVINCE, (Role.CLERK, Role.LEADER, Role.OFFICIAL)),
}

# who sees the document (as sender "s" or as recipient "r"), before assignment
ORDINARY = {
    "a_clerk": "s",
    "a_leader": "s",
    "b_clerk": "r",
    "b_leader": "r",
    "b_official": "r",
    "b_assignee": "r",
}
ORDINARY_ASSIGNED = ORDINARY
SECRET = {"a_clerk": "s", "a_leader": "s", "b_clerk": "r", "b_leader": "r"}
SECRET_ASSIGNED = {**SECRET, "b_assignee": "r"}
INBOX_ROLES = {Role.CLERK, Role.LEADER, Role.OFFICIAL}


async def _tokens(people: People) -> dict[str, str]:
    out = {}
    for login, (agency, roles) in PEOPLE.items():
        await people.add(login, *roles, agency=agency)
        out[login] = await people.token(login)
    return out


async def _check_matrix(
    client: TestClient[Any, Any],
    tokens: dict[str, str],
    doc_id: str,
    main_sha: str,
    expected: dict[str, str],
    probe: str,
) -> None:
    missing = await client.get(f"/api/v1/documents/{'0' * 32}", headers=bearer(tokens["a_clerk"]))
    not_found_body = await missing.json()
    for login, token in tokens.items():
        h = bearer(token)
        seen = expected.get(login)
        view = await client.get(f"/api/v1/documents/{doc_id}", headers=h)
        trace = await client.get(f"/api/v1/documents/{doc_id}/trace", headers=h)
        file = await client.get(f"/api/v1/documents/{doc_id}/files/{main_sha}", headers=h)
        status = await client.post(
            f"/api/v1/documents/{doc_id}/status", json={"code": probe, "note": "thử"}, headers=h
        )
        if seen is None:
            for resp in (view, trace, file, status):
                assert resp.status == 404, (login, resp.url)
                assert await resp.json() == not_found_body, login
        else:
            assert view.status == trace.status == file.status == 200, login
            body = await view.json()
            assert body["role"] == ("sender" if seen == "s" else "recipient"), login
            agencies = {r["agency_code"] for r in body["recipients"]}
            if seen == "r":
                assert agencies == {AGENCY_B}, login  # never another recipient's handling
            # the probe status never fits where the document stands: nothing changes
            assert status.status in (403, 409), (login, status.status)
        roles = set(PEOPLE[login][1])
        inbox = await client.get("/api/v1/documents/inbox", headers=h)
        outbox = await client.get("/api/v1/documents/outbox", headers=h)
        if roles & INBOX_ROLES:
            in_ids = {d["id"] for d in (await inbox.json())["items"]}
            out_ids = {d["id"] for d in (await outbox.json())["items"]}
            assert (doc_id in in_ids) == (seen == "r"), login
            assert (doc_id in out_ids) == (seen == "s"), login
        else:
            assert inbox.status == outbox.status == 403, login


@pytest.mark.parametrize("confidentiality", [0, 2])
async def test_every_role_sees_only_what_it_should(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles, confidentiality: int
) -> None:
    tokens = await _tokens(people)
    doc_id = await send(
        client, tokens["a_clerk"], pdfs.signed, to=[AGENCY_B], confidentiality=confidentiality
    )
    view = await (
        await client.get(f"/api/v1/documents/{doc_id}", headers=bearer(tokens["a_clerk"]))
    ).json()
    sha = view["main"]["sha256"]
    before, after = (
        (ORDINARY, ORDINARY_ASSIGNED) if confidentiality == 0 else (SECRET, SECRET_ASSIGNED)
    )
    await _check_matrix(client, tokens, doc_id, sha, before, "06")

    async def step(who: str, **body: Any) -> None:
        resp = await client.post(
            f"/api/v1/documents/{doc_id}/status", json=body, headers=bearer(tokens[who])
        )
        assert resp.status == 200, await resp.json()

    await step("b_clerk", code="03")
    await step("b_leader", code="04", assignee="b_assignee")
    await _check_matrix(client, tokens, doc_id, sha, after, "03")
    # the assignee moves it on; an unassigned official of the same agency may not
    other = await client.post(
        f"/api/v1/documents/{doc_id}/status",
        json={"code": "05"},
        headers=bearer(tokens["b_official"]),
    )
    assert other.status == (403 if confidentiality == 0 else 404)
    await step("b_assignee", code="05")


async def test_assignee_must_belong_to_the_agency(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    tokens = await _tokens(people)
    doc_id = await send(client, tokens["a_clerk"], pdfs.signed, to=[AGENCY_B])
    h = bearer(tokens["b_leader"])
    await client.post(
        f"/api/v1/documents/{doc_id}/status", json={"code": "03"}, headers=bearer(tokens["b_clerk"])
    )
    resp = await client.post(
        f"/api/v1/documents/{doc_id}/status",
        json={"code": "04", "assignee": "a_official"},
        headers=h,
    )
    assert resp.status == 422
    assert "Không có cán bộ" in (await resp.json())["detail_vi"]


async def test_anonymous_gets_401(client: TestClient[Any, Any]) -> None:
    for path in (
        "/api/v1/documents/inbox",
        "/api/v1/documents/outbox",
        f"/api/v1/documents/{'a' * 32}",
    ):
        assert (await client.get(path)).status == 401
    assert (await client.post("/api/v1/documents", data=b"")).status == 401
