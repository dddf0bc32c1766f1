"""Revoke (thu hồi), update (cập nhật) and replace (thay thế): the sender asks, each recipient
accepts (15) or refuses (16); nothing is deleted and the replaced version stays readable."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send, send_form


async def _setup(people: People) -> dict[str, str]:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    await people.add("ld_b", Role.LEADER, agency=AGENCY_B)
    await people.add("cv_b", Role.OFFICIAL, agency=AGENCY_B)
    await people.add("vt_p", Role.CLERK, agency=PROVINCE)
    return {x: await people.token(x) for x in ("vt_a", "vt_b", "ld_b", "vt_p")}


async def _view(client: TestClient[Any, Any], token: str, doc_id: str) -> Any:
    resp = await client.get(f"/api/v1/documents/{doc_id}", headers=bearer(token))
    assert resp.status == 200
    return await resp.json()


def _codes(view: Any, agency: str) -> list[str]:
    rec = next(r for r in view["recipients"] if r["agency_code"] == agency)
    return [e["code"] for e in rec["timeline"]]


async def test_revoke_accepted_by_one_refused_by_another(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    t = await _setup(people)
    doc_id = await send(client, t["vt_a"], pdfs.signed, to=[AGENCY_B, PROVINCE])

    async def status(who: str, **body: Any) -> Any:
        return await client.post(
            f"/api/v1/documents/{doc_id}/status", json=body, headers=bearer(t[who])
        )

    assert (await status("vt_b", code="03")).status == 200
    assert (await status("vt_b", code="15")).status == 409  # nothing to answer yet
    other = await client.post(
        f"/api/v1/documents/{doc_id}/revoke", json={"reason": "x"}, headers=bearer(t["vt_b"])
    )
    assert other.status == 404  # only the sender revokes; others do not learn it exists
    resp = await client.post(
        f"/api/v1/documents/{doc_id}/revoke",
        json={"reason": "Ban hành nhầm đối tượng"},
        headers=bearer(t["vt_a"]),
    )
    assert resp.status == 200 and sorted((await resp.json())["asked"]) == sorted(
        [AGENCY_B, PROVINCE]
    )
    mine = await _view(client, t["vt_b"], doc_id)
    assert mine["recipients"][0]["pending_request"] == "1"
    assert (await status("vt_b", code="15", note="Đã huỷ vào sổ")).status == 200
    assert (await status("vt_p", code="16", note="Đã triển khai")).status == 200
    # handling stops where the take-back was accepted
    blocked = await status("ld_b", code="04", assignee="cv_b")
    assert blocked.status == 409 and "thu hồi" in (await blocked.json())["detail_vi"]

    view = await _view(client, t["vt_a"], doc_id)
    assert _codes(view, AGENCY_B) == ["01", "03", "13", "15"]
    assert _codes(view, PROVINCE) == ["01", "13", "16"]
    by = {r["agency_code"]: r for r in view["recipients"]}
    assert by[AGENCY_B]["closed"] == "revoked" and by[AGENCY_B]["status"] == "03"
    assert by[PROVINCE]["closed"] == "" and by[PROVINCE]["pending_request"] is None


async def test_update_changes_the_record_and_is_acknowledged(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    t = await _setup(people)
    doc_id = await send(client, t["vt_a"], pdfs.signed, to=[AGENCY_B], subject="Về việc họp")
    resp = await client.post(
        f"/api/v1/documents/{doc_id}/update",
        json={"reason": "Sửa trích yếu", "subject": "Về việc họp tổng kết", "urgency": 3},
        headers=bearer(t["vt_a"]),
    )
    assert resp.status == 200, await resp.json()
    view = await _view(client, t["vt_b"], doc_id)
    assert view["subject"] == "Về việc họp tổng kết" and view["urgency"] == 3
    note = view["recipients"][0]["timeline"][-1]["note"]
    assert "Về việc họp → Về việc họp tổng kết" in note and "Thường → Thượng khẩn" in note
    ok = await client.post(
        f"/api/v1/documents/{doc_id}/status", json={"code": "15"}, headers=bearer(t["vt_b"])
    )
    assert ok.status == 200 and (await ok.json())["closed"] == ""
    empty = await client.post(
        f"/api/v1/documents/{doc_id}/update", json={"reason": "x"}, headers=bearer(t["vt_a"])
    )
    assert empty.status == 422


async def test_replace_keeps_the_old_version_readable(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    t = await _setup(people)
    old_id = await send(client, t["vt_a"], pdfs.signed, to=[AGENCY_B], number="30")
    unsigned = await client.post(
        f"/api/v1/documents/{old_id}/replace",
        data=send_form(pdfs.unsigned, to=[AGENCY_B], number="31"),
        headers=bearer(t["vt_a"]),
    )
    assert unsigned.status == 422  # a replacement must be signed like any send
    resp = await client.post(
        f"/api/v1/documents/{old_id}/replace",
        data=send_form(pdfs.signed, to=[AGENCY_B], number="31"),
        headers=bearer(t["vt_a"]),
    )
    body = await resp.json()
    assert resp.status == 201, body
    new_id = body["id"]
    old = await _view(client, t["vt_b"], old_id)
    new = await _view(client, t["vt_b"], new_id)
    assert old["replaced_by"] == [new_id] and new["replaces"] == old_id
    assert new["business_type"] == 3
    assert old["recipients"][0]["pending_request"] == "3"
    ok = await client.post(
        f"/api/v1/documents/{old_id}/status", json={"code": "15"}, headers=bearer(t["vt_b"])
    )
    assert (await ok.json())["closed"] == "replaced"
    # the replaced version is still there, file and all
    old = await _view(client, t["vt_b"], old_id)
    got = await client.get(
        f"/api/v1/documents/{old_id}/files/{old['main']['sha256']}", headers=bearer(t["vt_b"])
    )
    assert got.status == 200 and await got.read() == pdfs.signed
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(t["vt_b"]))).json()
    assert {d["id"] for d in inbox["items"]} == {old_id, new_id}
